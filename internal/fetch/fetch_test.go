package fetch

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// server serves one file under any name; the first `breaks` responses stop
// after half the body, and with ignoreRange it answers every request with
// the whole file.
type server struct {
	data        []byte
	breaks      int
	ignoreRange bool
	status      int

	mu     sync.Mutex
	ranges []string // the Range header of each request
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.ranges = append(s.ranges, r.Header.Get("Range"))
	brk := s.breaks > 0
	s.breaks--
	s.mu.Unlock()
	if s.status != 0 {
		http.Error(w, "no", s.status)
		return
	}
	if s.ignoreRange {
		r.Header.Del("Range")
	}
	if brk {
		w.Header().Set("Content-Length", strconv.Itoa(len(s.data)))
		w.WriteHeader(http.StatusOK)
		w.Write(s.data[:len(s.data)/2])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // the connection drops mid-body
	}
	http.ServeContent(w, r, "f", time.Time{}, bytes.NewReader(s.data))
}

func payload(t *testing.T) ([]byte, string) {
	t.Helper()
	b := make([]byte, 200_000)
	rand.New(rand.NewSource(7)).Read(b)
	s := sha256.Sum256(b)
	return b, hex.EncodeToString(s[:])
}

func get(t *testing.T, s *server, name string, retries int) (string, error) {
	t.Helper()
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	dir := t.TempDir()
	dst := filepath.Join(dir, name)
	return dst, File(context.Background(), ts.URL+"/x/"+name, dst, Options{Retries: retries})
}

func mustEqual(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes, not the %d served", path, len(got), len(want))
	}
	if _, err := os.Stat(path + ".part"); !os.IsNotExist(err) {
		t.Errorf("%s.part left behind: %v", path, err)
	}
}

func TestFetch(t *testing.T) {
	data, sum := payload(t)
	name := "tiny-" + sum[:8] + ".pth.tar"

	t.Run("fresh", func(t *testing.T) {
		s := &server{data: data}
		dst, err := get(t, s, name, 0)
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, dst, data)
	})

	t.Run("interrupted then resumed", func(t *testing.T) {
		s := &server{data: data, breaks: 1}
		ts := httptest.NewServer(s)
		defer ts.Close()
		dst := filepath.Join(t.TempDir(), name)
		err := File(context.Background(), ts.URL+"/"+name, dst, Options{})
		if err == nil {
			t.Fatal("a broken transfer succeeded")
		}
		if _, err := os.Stat(dst); !os.IsNotExist(err) {
			t.Fatalf("a half file is under the real name: %v", err)
		}
		st, err := os.Stat(dst + ".part")
		if err != nil || st.Size() == 0 || st.Size() >= int64(len(data)) {
			t.Fatalf("part file after the break: %v %v", st, err)
		}
		if err := File(context.Background(), ts.URL+"/"+name, dst, Options{}); err != nil {
			t.Fatal(err)
		}
		mustEqual(t, dst, data)
		if want := "bytes=" + strconv.FormatInt(st.Size(), 10) + "-"; s.ranges[1] != want {
			t.Errorf("resume asked for %q, want %q", s.ranges[1], want)
		}
	})

	t.Run("retries resume in one call", func(t *testing.T) {
		s := &server{data: data, breaks: 2}
		dst, err := get(t, s, name, 2)
		if err != nil {
			t.Fatal(err)
		}
		mustEqual(t, dst, data)
		if len(s.ranges) != 3 || s.ranges[0] != "" || s.ranges[1] == "" {
			t.Errorf("requests: %q", s.ranges)
		}
	})

	t.Run("server ignores the range", func(t *testing.T) {
		s := &server{data: data, ignoreRange: true}
		ts := httptest.NewServer(s)
		defer ts.Close()
		dst := filepath.Join(t.TempDir(), name)
		os.WriteFile(dst+".part", []byte("stale bytes from another file"), 0o644)
		if err := File(context.Background(), ts.URL+"/"+name, dst, Options{}); err != nil {
			t.Fatal(err)
		}
		mustEqual(t, dst, data)
	})

	t.Run("hash mismatch", func(t *testing.T) {
		s := &server{data: data}
		dst, err := get(t, s, "tiny-0badc0de.pth.tar", 0)
		if err == nil || !strings.Contains(err.Error(), "0badc0de") || !strings.Contains(err.Error(), sum[:16]) {
			t.Fatalf("err = %v", err)
		}
		for _, p := range []string{dst, dst + ".part"} {
			if _, err := os.Stat(p); !os.IsNotExist(err) {
				t.Errorf("%s exists after a mismatch", p)
			}
		}
	})

	t.Run("not found is not retried", func(t *testing.T) {
		s := &server{data: data, status: http.StatusNotFound}
		_, err := get(t, s, name, 3)
		if err == nil || !strings.Contains(err.Error(), "404") || len(s.ranges) != 1 {
			t.Fatalf("err = %v after %d requests", err, len(s.ranges))
		}
	})

	t.Run("existing file is checked", func(t *testing.T) {
		s := &server{data: data}
		ts := httptest.NewServer(s)
		defer ts.Close()
		dir := t.TempDir()
		good := filepath.Join(dir, name)
		os.WriteFile(good, data, 0o644)
		if err := File(context.Background(), ts.URL+"/"+name, good, Options{}); err != nil {
			t.Error(err)
		}
		bad := filepath.Join(dir, "other-"+sum[:8]+".pth")
		os.WriteFile(bad, data[:100], 0o644)
		if err := File(context.Background(), ts.URL+"/x", bad, Options{}); err == nil || !strings.Contains(err.Error(), "delete it") {
			t.Errorf("a damaged existing file: %v", err)
		}
		if len(s.ranges) != 0 {
			t.Errorf("%d requests for files already there", len(s.ranges))
		}
	})
}

func TestName(t *testing.T) {
	for _, tt := range []struct{ url, want string }{
		{"https://h/a/b/bagnet32-2ddd53ed.pth.tar", "bagnet32-2ddd53ed.pth.tar"},
		{"https://h/a/f.pth?raw=1#x", "f.pth"},
	} {
		if got := Name(tt.url); got != tt.want {
			t.Errorf("Name(%q) = %q", tt.url, got)
		}
	}
}
