package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the server's concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls out until re matches and returns the match, failing if run
// returns or time runs out first.
func waitFor(t *testing.T, out *syncBuffer, re *regexp.Regexp, done <-chan error) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m
		}
		select {
		case err := <-done:
			t.Fatalf("run returned %v before printing %v; output:\n%s", err, re, out.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("no %v in output:\n%s", re, out.String())
	return nil
}

func TestRunServesAndShutsDownGracefully(t *testing.T) {
	dir := t.TempDir()
	index := "<!doctype html><title>BagNet</title>"
	// Larger than the loopback socket buffers, so that the response is
	// still being written when shutdown begins.
	big := bytes.Repeat([]byte("bagnet!\n"), 8<<20)
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte(index), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-dir", dir, "-addr", "127.0.0.1:0"}, &out) }()
	url := waitFor(t, &out, regexp.MustCompile(`serving \S+ at (http://127\.0\.0\.1:\d+/)\n`), done)[1]

	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || string(body) != index {
		t.Fatalf("GET %s: %d %q %v, want 200 %q", url, resp.StatusCode, body, err, index)
	}
	if got := resp.Header.Get("Cross-Origin-Embedder-Policy"); got != "require-corp" {
		t.Errorf("GET %s: Cross-Origin-Embedder-Policy %q, want require-corp", url, got)
	}

	// Start a large download, shut down while it is in flight: the
	// download must complete and run must wait for it.
	resp, err = client.Get(url + "big.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	cancel()
	waitFor(t, &out, regexp.MustCompile(`shutting down\n`), done)
	select {
	case err := <-done:
		t.Fatalf("run returned %v with a response in flight", err)
	case <-time.After(200 * time.Millisecond):
	}
	body, err = io.ReadAll(resp.Body)
	if err != nil || !bytes.Equal(body, big) {
		t.Fatalf("download during shutdown: %d of %d bytes, %v", len(body), len(big), err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after shutdown")
	}

	if _, err := (&http.Client{Transport: &http.Transport{}}).Get(url); err == nil {
		t.Errorf("GET %s after shutdown succeeded", url)
	}
	log := out.String()
	for _, want := range []string{`GET "/" 200 ` + fmt.Sprint(len(index)) + "B", `GET "/big.bin" 200 ` + fmt.Sprint(len(big)) + "B"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

func TestRunQuiet(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("hi"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-quiet", "-addr=127.0.0.1:0", "-dir=" + dir}, &out) }()
	url := waitFor(t, &out, regexp.MustCompile(`at (http://\S+/)\n`), done)[1]
	client := &http.Client{Transport: &http.Transport{}}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	client.CloseIdleConnections()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if log := out.String(); strings.Contains(log, "GET") {
		t.Errorf("-quiet logged requests:\n%s", log)
	}
}

func TestRunErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-dir", filepath.Join(dir, "missing"), "-addr", "127.0.0.1:0"}, "does not exist"},
		{[]string{"-addr", "127.0.0.1:0"}, `"dist" does not exist`}, // the default, relative to this package
		{[]string{"-dir", dir, "-addr", busy.Addr().String()}, "listen"},
		{[]string{"-dir", dir, "-addr", "127.0.0.1:0", "extra"}, "unexpected arguments"},
		{[]string{"-nosuchflag"}, "not defined"},
	}
	for _, tt := range tests {
		var out syncBuffer
		err := run(context.Background(), tt.args, &out)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("run(%q) = %v, want an error containing %q", tt.args, err, tt.want)
		}
		if strings.Contains(out.String(), "serving") {
			t.Errorf("run(%q) claimed to serve:\n%s", tt.args, out.String())
		}
	}
	var out syncBuffer
	if err := run(context.Background(), []string{"-h"}, &out); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("run(-h) = %v, want flag.ErrHelp", err)
	}
	for _, name := range []string{"-dir", "-addr", "-quiet"} {
		if !strings.Contains(out.String(), name) {
			t.Errorf("usage lacks %s:\n%s", name, out.String())
		}
	}
}
