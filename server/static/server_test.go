package static

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bagnetweb/bagnet/internal/testfixture"
)

// serve starts NewServer(h, t) on a loopback listener wrapped by Listen
// (unless raw) and returns its address.
func serve(t *testing.T, h http.Handler, to Timeouts, raw bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(h, to)
	srv.ErrorLog = log.New(io.Discard, "", 0)
	l := ln
	if !raw {
		l = Listen(ln, to)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// rawRequest sends req over a new connection to addr and reads one response.
func rawRequest(t *testing.T, addr, req string) (*http.Response, []byte) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%.60q: %v", req, err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%.60q: body: %v", req, err)
	}
	return resp, body
}

// checkSecurityHeaders fails t unless h has each security header exactly once.
func checkSecurityHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	for _, kv := range securityHeaders {
		if got := h.Values(kv[0]); len(got) != 1 || got[0] != kv[1] {
			t.Errorf("%s: %s %q, want %q", what, kv[0], got, kv[1])
		}
	}
}

// TestPreconditionFailedEncoded: a 412 for a precompressed file has no body
// and says so, over a real connection, where a wrong Content-Length would
// make the client wait for bytes that never come (curl: exit 18).
func TestPreconditionFailedEncoded(t *testing.T) {
	s := newSite(t)
	srv := httptest.NewServer(s.h)
	defer srv.Close()
	br := s.do("GET", "/app.js", "Accept-Encoding: br").Header().Get("ETag")
	past := time.Now().Add(-24 * time.Hour).UTC().Format(http.TimeFormat)
	tests := []struct {
		name    string
		headers []string
		code    int
	}{
		{"If-Match other", []string{"Accept-Encoding: br", `If-Match: "other"`}, http.StatusPreconditionFailed},
		{"If-Unmodified-Since past", []string{"Accept-Encoding: br", "If-Unmodified-Since: " + past}, http.StatusPreconditionFailed},
		{"If-Match gzip", []string{"Accept-Encoding: gzip", `If-Match: "other"`}, http.StatusPreconditionFailed},
		{"If-None-Match", []string{"Accept-Encoding: br", "If-None-Match: " + br}, http.StatusNotModified},
		{"If-Match matches", []string{"Accept-Encoding: br", "If-Match: " + br}, http.StatusOK},
	}
	for _, tt := range tests {
		path := "/app.js"
		if strings.Contains(tt.name, "gzip") {
			path = "/style.css"
		}
		for _, method := range []string{"GET", "HEAD"} {
			// Two requests on one connection: the second response
			// is read right only if the first one's length is right.
			c, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(20 * time.Second))
			req := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: x\r\n%s\r\n\r\nGET /robots.txt HTTP/1.1\r\nHost: x\r\n\r\n",
				method, path, strings.Join(tt.headers, "\r\n"))
			io.WriteString(c, req)
			r := bufio.NewReader(c)
			resp, err := http.ReadResponse(r, &http.Request{Method: method})
			if err != nil {
				t.Fatalf("%s %s (%s): %v", method, path, tt.name, err)
			}
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Errorf("%s %s (%s): body: %v", method, path, tt.name, err)
			}
			if resp.StatusCode != tt.code {
				t.Errorf("%s %s (%s): status %d, want %d", method, path, tt.name, resp.StatusCode, tt.code)
			}
			cl := resp.Header.Get("Content-Length")
			if tt.code == http.StatusOK {
				file := s.read(t, strings.TrimPrefix(path, "/")+map[bool]string{true: ".gz", false: ".br"}[path == "/style.css"])
				if cl != fmt.Sprint(len(file)) || (method == "GET" && string(body) != file) {
					t.Errorf("%s %s (%s): Content-Length %q, %d body bytes, want %d", method, path, tt.name, cl, len(body), len(file))
				}
			} else {
				if len(body) != 0 || (cl != "" && cl != "0") {
					t.Errorf("%s %s (%s): Content-Length %q with %d body bytes, want none", method, path, tt.name, cl, len(body))
				}
				if ce := resp.Header.Get("Content-Encoding"); ce != "" {
					t.Errorf("%s %s (%s): Content-Encoding %q on a response without content", method, path, tt.name, ce)
				}
			}
			checkSecurityHeaders(t, method+" "+path+" ("+tt.name+")", resp.Header)
			next, err := http.ReadResponse(r, nil)
			if err != nil {
				t.Fatalf("%s %s (%s): the next response on the connection: %v", method, path, tt.name, err)
			}
			nb, _ := io.ReadAll(next.Body)
			if next.StatusCode != http.StatusOK || string(nb) != files["robots.txt"] {
				t.Errorf("%s %s (%s): the next response: %d %q, want robots.txt", method, path, tt.name, next.StatusCode, nb)
			}
			c.Close()
		}
	}
}

// TestRanges: many or overlapping ranges get the whole file (200), never a
// multipart reply many times the file's size; a few disjoint ranges still
// get 206.
func TestRanges(t *testing.T) {
	s := newSite(t)
	// More bytes than the 250,000 ranges below, which net/http would
	// otherwise ignore by itself.
	const size = 400000
	content := bytes.Repeat([]byte("0123456789"), size/10)
	if err := os.WriteFile(filepath.Join(s.root, "r.bin"), content, 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.h)
	defer srv.Close()
	many := func(n int, r string) string { return strings.TrimSuffix(strings.Repeat(r+",", n), ",") }
	disjoint := func(n int) string {
		var rs []string
		for i := range n {
			rs = append(rs, fmt.Sprintf("%d-%d", i*10, i*10+2))
		}
		return strings.Join(rs, ",")
	}
	tests := []struct {
		rng   string
		code  int
		parts [][2]int // for 206: [start, end] of each part, inclusive
	}{
		{"bytes=0-0", 206, [][2]int{{0, 0}}},
		{"bytes=10-19", 206, [][2]int{{10, 19}}},
		{"bytes=-10", 206, [][2]int{{size - 10, size - 1}}},
		{"bytes=0-4,5-9", 206, [][2]int{{0, 4}, {5, 9}}},          // adjacent, not overlapping
		{"bytes=100-102, 0-2", 206, [][2]int{{100, 102}, {0, 2}}}, // out of order, disjoint
		{"bytes=0-2,500000-600000", 206, [][2]int{{0, 2}}},        // one outside the file
		{"bytes=" + disjoint(maxRanges), 206, nil},                // parts checked below
		{"bytes=" + disjoint(maxRanges+1), 200, nil},              // too many
		{"bytes=0-0,0-0", 200, nil},                               // overlapping
		{"bytes=0-5,3-8", 200, nil},                               // overlapping
		{"bytes=-10,399995-", 200, nil},                           // a suffix overlapping
		{"bytes=0-,500-600", 200, nil},                            // overlapping
		{"bytes=" + many(250000, "0-0"), 200, nil},                // the 34 MB reply
		{"bytes=" + many(1000, "10-20") + ",0-0", 200, nil},       // overlapping, then one more
		{"bytes=400000-", 416, nil},                               // unsatisfiable: as before
		{"bytes=abc", 416, nil},                                   // malformed: as before
		{"bytes=" + many(100, "500000-500001"), 416, nil},         // many, none inside the file
		{"items=0-1", 416, nil},                                   // another unit: as before
		{"bytes=" + many(3, "1-1"), 200, nil},                     // duplicates
	}
	for _, tt := range tests {
		name := tt.rng
		if len(name) > 60 {
			name = fmt.Sprintf("%.50s... (%d bytes)", name, len(name))
		}
		req, _ := http.NewRequest("GET", srv.URL+"/r.bin", nil)
		req.Header.Set("Range", tt.rng)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("%s: body: %v", name, err)
		}
		if resp.StatusCode != tt.code {
			t.Errorf("%s: status %d, want %d", name, resp.StatusCode, tt.code)
			continue
		}
		checkSecurityHeaders(t, name, resp.Header)
		switch tt.code {
		case 200:
			if !bytes.Equal(body, content) {
				t.Errorf("%s: 200 with %d bytes, want the file's %d", name, len(body), len(content))
			}
		case 206:
			parts := tt.parts
			if parts == nil {
				for i := range maxRanges {
					parts = append(parts, [2]int{i * 10, i*10 + 2})
				}
			}
			got := rangeParts(t, name, resp, body)
			if len(got) != len(parts) {
				t.Errorf("%s: %d parts, want %d", name, len(got), len(parts))
				continue
			}
			for i, p := range parts {
				if want := content[p[0] : p[1]+1]; !bytes.Equal(got[i], want) {
					t.Errorf("%s: part %d %q, want %q", name, i, got[i], want)
				}
			}
			if len(body) > 200+len(parts)*150 {
				t.Errorf("%s: a reply of %d bytes for %d parts", name, len(body), len(parts))
			}
		}
	}
}

// rangeParts returns the parts of a 206 response, one or multipart.
func rangeParts(t *testing.T, name string, resp *http.Response, body []byte) [][]byte {
	t.Helper()
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/byteranges" {
		return [][]byte{body}
	}
	var out [][]byte
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("%s: multipart: %v", name, err)
		}
		b, _ := io.ReadAll(p)
		out = append(out, b)
	}
}

// TestReasonableRanges checks the range rule on its own, sizes included.
func TestReasonableRanges(t *testing.T) {
	tests := []struct {
		h    string
		size int64
		want bool
	}{
		{"bytes=0-0", 10, true},
		{"bytes=0-0,0-0", 10, false},
		{"bytes=0-4,5-9", 10, true},
		{"bytes=0-5,5-9", 10, false},
		{"bytes=5-100,0-4", 10, true},
		{"bytes=5-100,9-", 10, false},   // both reach the end
		{"bytes=-3,7-7", 10, false},     // the last 3 bytes hold byte 7
		{"bytes=-3,6-6", 10, true},      // they do not hold byte 6
		{"bytes=-30,0-0", 10, false},    // a suffix longer than the file
		{"bytes=20-30,20-30", 10, true}, // outside: ServeContent says 416
		{"bytes=x", 10, true},           // malformed: ServeContent says 416
		{"bytes=0-0,x,0-0", 10, true},   // malformed: ServeContent says 416
		{"bytes=" + strings.Repeat("1-1,", 3), 0, true},
		{"bytes=0-1,2-3,4-5,6-7,8-9,10-11,12-13,14-15", 100, true},
		{"bytes=0-1,2-3,4-5,6-7,8-9,10-11,12-13,14-15,16-17", 100, false},
		{"other=0-0,0-0", 10, true},
	}
	for _, tt := range tests {
		if got := reasonableRanges(tt.h, tt.size); got != tt.want {
			t.Errorf("reasonableRanges(%q, %d) = %v, want %v", tt.h, tt.size, got, tt.want)
		}
	}
}

// TestServerErrorsCarrySecurityHeaders sends requests that net/http answers
// by itself, before any handler, and checks that through Listen those
// answers carry the security headers, and that the handler's own responses
// carry them once, unchanged.
func TestServerErrorsCarrySecurityHeaders(t *testing.T) {
	s := newSite(t)
	wrapped := serve(t, s.h, DefaultTimeouts, false)
	plain := serve(t, s.h, DefaultTimeouts, true)
	big := strings.Repeat("a", 1<<20+10<<10) // over http.DefaultMaxHeaderBytes
	tests := []struct {
		name, req string
		code      int
		body      string
	}{
		{"no Host", "GET / HTTP/1.1\r\n\r\n", 400, "400 Bad Request: missing required Host header"},
		{"garbage", "GARBAGE\r\n\r\n", 400, "400 Bad Request"},
		{"bad header", "GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 400, "400 Bad Request"},
		{"header too large", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + big + "\r\n\r\n", 431, "431 Request Header Fields Too Large"},
		{"transfer coding", "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "Unsupported transfer encoding"},
		{"expectation", "GET / HTTP/1.1\r\nHost: x\r\nExpect: coffee\r\n\r\n", 417, ""},
	}
	for _, tt := range tests {
		resp, body := rawRequest(t, wrapped, tt.req)
		if resp.StatusCode != tt.code || string(body) != tt.body {
			t.Errorf("%s: %d %q, want %d %q", tt.name, resp.StatusCode, body, tt.code, tt.body)
		}
		checkSecurityHeaders(t, tt.name, resp.Header)
		if !resp.Close {
			t.Errorf("%s: no Connection: close", tt.name)
		}
		// The control: net/http's own answer, without Listen.
		resp, body = rawRequest(t, plain, tt.req)
		if resp.StatusCode != tt.code || string(body) != tt.body {
			t.Errorf("%s without Listen: %d %q, want %d %q", tt.name, resp.StatusCode, body, tt.code, tt.body)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); csp != "" {
			t.Logf("%s: net/http now sets a CSP itself: %q", tt.name, csp)
		}
	}

	// The handler's responses pass through untouched, whatever their
	// content: here a file holding a raw error response itself.
	fake := "HTTP/1.1 400 Bad Request\r\n" + rawErrorHeaders + "\r\n400 Bad Request"
	if err := os.WriteFile(filepath.Join(s.root, "fake.txt"), []byte(fake), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path string
		code int
		body string
	}{
		{"/robots.txt", 200, files["robots.txt"]},
		{"/fake.txt", 200, fake},
		{"/a%2fb", 400, "Bad Request\n"},
		{"/missing", 404, "Not Found\n"},
	} {
		resp, body := rawRequest(t, wrapped, "GET "+tt.path+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if resp.StatusCode != tt.code || string(body) != tt.body {
			t.Errorf("GET %s: %d %q, want %d %q", tt.path, resp.StatusCode, body, tt.code, tt.body)
		}
		checkSecurityHeaders(t, "GET "+tt.path, resp.Header)
	}
}

func TestWithSecurityHeaders(t *testing.T) {
	for _, tt := range []struct {
		p    string
		want bool
	}{
		{"HTTP/1.1 431 Request Header Fields Too Large\r\n" + rawErrorHeaders + "\r\n431 Request Header Fields Too Large", true},
		{"HTTP/1.1 400 Bad Request: x\r\n" + rawErrorHeaders + "\r\n400 Bad Request: x", true},
		{"HTTP/1.1 417 Expectation Failed\r\nConnection: close\r\nDate: Mon, 02 Jan 2006 15:04:05 GMT\r\nContent-Length: 0\r\n\r\n", true},
		{"HTTP/1.1 417 Expectation Failed\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello", false},
		{"HTTP/1.1 200 OK\r\n" + rawErrorHeaders + "\r\nok", false},
		{"HTTP/1.1 404 Not Found\r\nContent-Security-Policy: x\r\n" + rawErrorHeaders + "\r\n", false},
		{"HTTP/1.1 400 Bad Request\r\n" + rawErrorHeaders + "\r\n" + strings.Repeat("x", maxRawError), false},
		{"HTTP/1.1 400 Bad Request\r\n" + rawErrorHeaders, false}, // no end of the head
		{"HTTP/1.0 400 Bad Request\r\n" + rawErrorHeaders + "\r\n", false},
		{"some body bytes", false},
		{"", false},
	} {
		q, ok := withSecurityHeaders([]byte(tt.p))
		if ok != tt.want {
			t.Errorf("withSecurityHeaders(%.50q) = %v, want %v", tt.p, ok, tt.want)
			continue
		}
		if !ok {
			continue
		}
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(q)), nil)
		if err != nil {
			t.Fatalf("%.50q: %v", q, err)
		}
		checkSecurityHeaders(t, fmt.Sprintf("%.30q", tt.p), resp.Header)
		want, _ := http.ReadResponse(bufio.NewReader(strings.NewReader(tt.p)), nil)
		for k, v := range want.Header {
			if got := resp.Header[k]; strings.Join(got, ",") != strings.Join(v, ",") {
				t.Errorf("%.30q: %s %q, want %q", tt.p, k, got, v)
			}
		}
		b1, _ := io.ReadAll(resp.Body)
		b2, _ := io.ReadAll(want.Body)
		if resp.StatusCode != want.StatusCode || !bytes.Equal(b1, b2) {
			t.Errorf("%.30q: %d %q, want %d %q", tt.p, resp.StatusCode, b1, want.StatusCode, b2)
		}
	}
}

// bigSite is a site with one file of size bytes, big.bin.
func bigSite(t *testing.T, size int) (http.Handler, []byte, *testfixture.SyncBuffer) {
	t.Helper()
	dir := t.TempDir()
	big := make([]byte, size)
	for i := range big {
		big[i] = byte(i * 7 >> 3)
	}
	if err := os.WriteFile(filepath.Join(dir, "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	var l testfixture.SyncBuffer
	h, err := NewHandler(dir, Options{Logger: log.New(&l, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	return h, big, &l
}

// waitLines waits up to d for n lines containing sub in l.
func waitLines(l *testfixture.SyncBuffer, sub string, n int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if strings.Count(l.String(), sub) >= n {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// TestStalledClients opens connections that request a large file and never
// read: each is closed after the stall timeout (the handler gives up on its
// write), and without the timeout none is.
func TestStalledClients(t *testing.T) {
	t.Parallel()
	const (
		clients = 20
		stall   = 300 * time.Millisecond
	)
	h, big, l := bigSite(t, 32<<20) // more than loopback buffers hold
	for _, withTimeout := range []bool{true, false} {
		to := Timeouts{Header: 5 * time.Second, Idle: 5 * time.Second}
		if withTimeout {
			to.Stall = stall
		}
		addr := serve(t, h, to, false)
		before := strings.Count(l.String(), "big.bin")
		var conns []net.Conn
		for range clients {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			conns = append(conns, c)
			io.WriteString(c, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
		}
		start := time.Now()
		wait := stall + 15*time.Second // the time to end them all on a loaded machine
		if !withTimeout {
			wait = 10 * stall // the control: long enough to see none ends
		}
		done := waitLines(l, "big.bin", before+clients, wait)
		took := time.Since(start)
		switch {
		case withTimeout && !done:
			t.Errorf("stall timeout %v: %d of %d stalled responses ended after %v",
				stall, strings.Count(l.String(), "big.bin")-before, clients, took)
		case withTimeout && took < stall:
			t.Errorf("stall timeout %v: the stalled responses ended after %v already", stall, took)
		case !withTimeout && done:
			t.Errorf("no stall timeout: %d stalled responses ended", clients)
		}
		if withTimeout {
			// The server closed them: a client reads what was in
			// flight, then the end, far short of the file.
			for i, c := range conns {
				c.SetReadDeadline(time.Now().Add(20 * time.Second))
				n, err := io.Copy(io.Discard, c)
				if n >= int64(len(big)) || isTimeout(err) {
					t.Errorf("client %d: read %d bytes of %d, %v; want a closed connection", i, n, len(big), err)
				}
			}
		}
		for _, c := range conns {
			c.Close()
		}
		if !withTimeout {
			// Closing the clients frees the handlers.
			waitLines(l, "big.bin", before+clients, 10*time.Second)
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestSlowReaderCompletes: a download that takes many times the stall
// timeout completes, as long as the client keeps reading.
func TestSlowReaderCompletes(t *testing.T) {
	t.Parallel()
	// The client takes 32 KiB every 25 ms, 64 KiB (one write) per 50 ms:
	// ten times faster than the stall timeout asks, for a loaded machine.
	const stall = 500 * time.Millisecond
	h, big, _ := bigSite(t, 2<<20)
	addr := serve(t, h, Timeouts{Header: time.Second, Idle: time.Second, Stall: stall}, false)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
	start := time.Now()
	r := bufio.NewReaderSize(c, 4096)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	buf := make([]byte, 32<<10)
	for {
		time.Sleep(stall / 20)
		n, err := io.ReadFull(resp.Body, buf)
		got = append(got, buf[:n]...)
		if err == io.EOF || err == io.ErrUnexpectedEOF { // the end, or a cut: compared below
			break
		}
		if err != nil {
			t.Fatalf("after %d bytes in %v: %v", len(got), time.Since(start), err)
		}
	}
	took := time.Since(start)
	if !bytes.Equal(got, big) {
		t.Fatalf("got %d bytes, want the file's %d", len(got), len(big))
	}
	if took < 3*stall {
		t.Errorf("the slow download took %v, want several stall timeouts (%v) to prove the point", took, stall)
	}
	t.Logf("downloaded %d bytes in %v with a stall timeout of %v", len(got), took, stall)
}

// TestConnectionTimeouts: a client that sends no header, half a header, an
// announced body it never sends, or nothing after a response loses its
// connection after the matching timeout.
func TestConnectionTimeouts(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	to := Timeouts{Header: 300 * time.Millisecond, Idle: 400 * time.Millisecond, Stall: 500 * time.Millisecond}
	addr := serve(t, s.h, to, false)
	tests := []struct {
		name, send string
		timeout    time.Duration
	}{
		{"nothing", "", to.Header},
		{"half a header", "GET / HTTP/1.1\r\nHost: x\r\n", to.Header},
		{"idle after a response", "GET /robots.txt HTTP/1.1\r\nHost: x\r\n\r\n", to.Idle},
		{"a body never sent", "GET /robots.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n", to.Stall},
		{"a POST body never sent", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n", to.Stall},
	}
	var wg sync.WaitGroup
	for _, tt := range tests {
		wg.Go(func() {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			io.WriteString(c, tt.send)
			start := time.Now()
			c.SetReadDeadline(start.Add(tt.timeout + 15*time.Second))
			_, err = io.Copy(io.Discard, c)
			took := time.Since(start)
			if isTimeout(err) {
				t.Errorf("%s: still open after %v (timeout %v)", tt.name, took, tt.timeout)
			} else if took < tt.timeout*8/10 {
				t.Errorf("%s: closed after %v, before its timeout %v", tt.name, took, tt.timeout)
			}
		})
	}
	wg.Wait()
}
