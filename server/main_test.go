package main

import (
	"bufio"
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
	"testing"
	"time"

	"github.com/bagnetweb/bagnet/internal/testfixture"
)

// waitFor polls out until re matches and returns the match, failing if run
// returns or time runs out first.
func waitFor(t *testing.T, out *testfixture.SyncBuffer, re *regexp.Regexp, done <-chan error) []string {
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

// started is run, started in the background on a free port of 127.0.0.1
// and serving: its log, its result and how to stop it.
type started struct {
	url    string                  // where it serves, "http://127.0.0.1:PORT/"
	out    *testfixture.SyncBuffer // its log
	done   chan error              // run's result
	cancel context.CancelFunc      // stops it (also at the end of the test)
}

// start runs run with args (-addr 127.0.0.1:0 is added) and waits for its
// line "... at URL" (match: the regexp of the whole line's end, whose first
// group is the URL).
func start(t *testing.T, match string, args ...string) *started {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s := &started{out: new(testfixture.SyncBuffer), done: make(chan error, 1), cancel: cancel}
	go func() { s.done <- run(ctx, append(args, "-addr", "127.0.0.1:0"), s.out) }()
	s.url = waitFor(t, s.out, regexp.MustCompile(match), s.done)[1]
	return s
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

	srv := start(t, `serving \S+ at (http://127\.0\.0\.1:\d+/)\n`, "-dir", dir)
	url, out, done, cancel := srv.url, srv.out, srv.done, srv.cancel

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
	waitFor(t, out, regexp.MustCompile(`shutting down\n`), done)
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
	srv := start(t, `at (http://\S+/)\n`, "-quiet", "-dir="+dir)
	url, out, done, cancel := srv.url, srv.out, srv.done, srv.cancel
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
		var out testfixture.SyncBuffer
		err := run(context.Background(), tt.args, &out)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("run(%q) = %v, want an error containing %q", tt.args, err, tt.want)
		}
		if strings.Contains(out.String(), "serving") {
			t.Errorf("run(%q) claimed to serve:\n%s", tt.args, out.String())
		}
	}
	var out testfixture.SyncBuffer
	if err := run(context.Background(), []string{"-h"}, &out); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("run(-h) = %v, want flag.ErrHelp", err)
	}
	for _, name := range []string{"-dir", "-addr", "-quiet", "-stall-timeout", "-idle-timeout", "-header-timeout"} {
		if !strings.Contains(out.String(), name) {
			t.Errorf("usage lacks %s:\n%s", name, out.String())
		}
	}
}

// TestRunStalledClients starts the command with a short -stall-timeout and
// 100 clients that request a large file and never read: the server must end
// every one of those responses after the timeout (the log shows each with
// the bytes it managed to write), and each client finds its connection
// closed, far short of the file.
func TestRunStalledClients(t *testing.T) {
	const clients = 100
	dir := t.TempDir()
	big := bytes.Repeat([]byte("stalled\n"), 4<<20) // 32 MiB: more than loopback buffers hold
	if err := os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	srv := start(t, `at (http://127\.0\.0\.1:\d+/)\n`, "-dir", dir, "-stall-timeout", "500ms", "-idle-timeout", "1s")
	out := srv.out
	addr := strings.TrimSuffix(strings.TrimPrefix(srv.url, "http://"), "/")

	// The file's hash is computed once, before the clients come.
	client := &http.Client{Transport: &http.Transport{}}
	resp, err := client.Head("http://" + addr + "/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	client.CloseIdleConnections()

	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range clients {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		if _, err := io.WriteString(c, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	ended := regexp.MustCompile(`GET "/big.bin" 200 (\d+)B`)
	for len(ended.FindAllString(out.String(), -1)) < clients {
		if time.Since(start) > 30*time.Second {
			t.Fatalf("after %v, %d of %d stalled responses ended:\n%s", time.Since(start),
				len(ended.FindAllString(out.String(), -1)), clients, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("%d stalled responses ended after %v", clients, time.Since(start).Round(time.Millisecond))
	for _, m := range ended.FindAllStringSubmatch(out.String(), -1) {
		if m[1] == fmt.Sprint(len(big)) {
			t.Errorf("a stalled response was written whole: %s", m[0])
		}
	}
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := io.Copy(io.Discard, c)
		var ne net.Error
		if n >= int64(len(big)) || errors.As(err, &ne) && ne.Timeout() {
			t.Errorf("client %d: read %d of %d bytes, %v; want a closed connection", i, n, len(big), err)
		}
	}

	// The server still serves, and its own 431 carries the security headers.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n", strings.Repeat("a", 2<<20))
	resp, err = http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge || resp.Header.Get("Content-Security-Policy") == "" ||
		resp.Header.Get("Cross-Origin-Embedder-Policy") != "require-corp" {
		t.Errorf("431: %d %q, want 431 with the security headers", resp.StatusCode, resp.Header)
	}
	srv.cancel()
	if err := <-srv.done; err != nil {
		t.Errorf("run: %v", err)
	}
}
