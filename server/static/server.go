package static

import (
	"bytes"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Timeouts bound how long a client may hold a connection without making
// progress. There is deliberately no bound on a whole response: a 100 MB
// model file over a slow link may take many minutes, and that is fine as
// long as the client keeps reading.
type Timeouts struct {
	// Header bounds reading a request's header
	// (http.Server.ReadHeaderTimeout).
	Header time.Duration
	// Idle bounds how long a kept-alive connection waits for its next
	// request (http.Server.IdleTimeout).
	Idle time.Duration
	// Stall bounds each write to a connection (of at most writeChunk
	// bytes) and the reading of a request's body: a client that stops
	// reading a response, or stops sending a body it announced, loses
	// its connection after Stall. A client downloading at writeChunk
	// bytes per Stall or faster is never cut off.
	Stall time.Duration
}

// DefaultTimeouts are the timeouts of the server command: a download
// continues as long as the client takes 64 KiB every 30 s (about 2 KiB/s).
var DefaultTimeouts = Timeouts{
	Header: 10 * time.Second,
	Idle:   2 * time.Minute,
	Stall:  30 * time.Second,
}

// writeChunk is the most bytes written to a connection under one deadline.
const writeChunk = 64 << 10

// NewServer returns an http.Server that serves h with the timeouts t (a
// zero field means no bound). Serve it on a listener wrapped by Listen, so
// that the Stall timeout applies to every write and the responses net/http
// writes by itself carry the security headers too:
//
//	srv := static.NewServer(h, static.DefaultTimeouts)
//	err := srv.Serve(static.Listen(ln, static.DefaultTimeouts))
//
// A WriteTimeout would bound the whole response, from the end of the
// request to the last byte: long enough for a 100 MB model over a slow link
// and it no longer frees a stalled connection in reasonable time. Per-write
// deadlines bound the lack of progress instead.
func NewServer(h http.Handler, t Timeouts) *http.Server {
	return &http.Server{
		Handler:           bodyDeadline(h, t.Stall),
		ReadHeaderTimeout: t.Header,
		IdleTimeout:       t.Idle,
	}
}

// bodyDeadline bounds the reading of a request body: net/http reads (and
// discards) an unread body after the handler returns, and without a
// deadline a client that announces a body and never sends it holds the
// connection forever. (http.Server.ReadTimeout would do it too, but it also
// expires during a long download and cancels the request's context.)
func bodyDeadline(h http.Handler, d time.Duration) http.Handler {
	if d <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength != 0 { // -1: chunked, of unknown length
			// Not supported by a recorder or HTTP/2: nothing to bound there.
			_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(d))
		}
		h.ServeHTTP(w, r)
	})
}

// Listen wraps ln so that its connections
//   - give every write of at most 64 KiB a deadline of t.Stall (when not
//     zero), which frees connections whose clients stop reading;
//   - add the security headers to the error responses that net/http writes
//     by itself, before any handler runs: 400 (a malformed request), 417
//     (an unsupported Expect), 431 (a header too large) and 501 (an unknown
//     transfer coding).
func Listen(ln net.Listener, t Timeouts) net.Listener {
	return &listener{Listener: ln, stall: t.Stall}
}

type listener struct {
	net.Listener
	stall time.Duration
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok && l.stall > 0 {
		limitUnsent(tc, writeChunk)
	}
	return &conn{Conn: c, stall: l.stall}, nil
}

// conn is a server connection (see Listen).
type conn struct {
	net.Conn
	stall time.Duration
}

// extend moves the write deadline stall into the future.
func (c *conn) extend() error {
	if c.stall <= 0 {
		return nil
	}
	return c.Conn.SetWriteDeadline(time.Now().Add(c.stall))
}

func (c *conn) Write(p []byte) (int, error) {
	if q, ok := withSecurityHeaders(p); ok {
		if _, err := c.write(q); err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return c.write(p)
}

// write writes p in chunks, each under its own deadline.
func (c *conn) write(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if err := c.extend(); err != nil {
			return n, err
		}
		m, err := c.Conn.Write(p[n : n+min(len(p)-n, writeChunk)])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// ReadFrom copies src in chunks, each under its own deadline, keeping the
// connection's own ReadFrom (sendfile for a file) in use: net/http sends a
// file body through it.
func (c *conn) ReadFrom(src io.Reader) (int64, error) {
	rf, ok := c.Conn.(io.ReaderFrom)
	if !ok {
		return io.Copy(writerOnly{c}, src)
	}
	// Chunks of the file itself, not of a reader wrapping it, so that
	// the connection still recognises the file (sendfile).
	lr, _ := src.(*io.LimitedReader)
	base, remain := src, int64(math.MaxInt64)
	if lr != nil {
		base, remain = lr.R, lr.N
	}
	var total int64
	for remain > 0 {
		if err := c.extend(); err != nil {
			return total, err
		}
		n := min(remain, writeChunk)
		m, err := rf.ReadFrom(&io.LimitedReader{R: base, N: n})
		total += m
		remain -= m
		if lr != nil {
			lr.N -= m
		}
		if err != nil || m < n { // an error, or the end of src
			return total, err
		}
	}
	return total, nil
}

// CloseWrite lets net/http half-close the connection after a 431, as it
// does with a *net.TCPConn.
func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// writerOnly hides a writer's ReadFrom from io.Copy.
type writerOnly struct{ io.Writer }

// Response heads that net/http writes by itself (net/http/server.go:
// conn.serve and response.sendExpectationFailed, Go 1.26).
const (
	rawErrorHeaders = "Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"
	maxRawError     = 1 << 10
)

// withSecurityHeaders returns p with the security headers added after its
// status line when p is a whole error response written by net/http itself,
// and false otherwise. It recognises exactly the forms net/http writes: a
// 4xx or 5xx status line followed by the headers Content-Type: text/plain
// and Connection: close and a short plain body, written in one piece; or a
// 417 with only Connection, Date and Content-Length: 0 and no body. The
// handler's own responses always carry the headers, so they never match.
func withSecurityHeaders(p []byte) ([]byte, bool) {
	if len(p) > maxRawError || !bytes.HasPrefix(p, []byte("HTTP/1.1 ")) {
		return nil, false
	}
	statusLine, rest, ok := bytes.Cut(p, []byte("\r\n"))
	end := bytes.Index(rest, []byte("\r\n\r\n"))
	if !ok || end < 0 {
		return nil, false
	}
	head, body := rest[:end+2], rest[end+4:] // head: "Name: value\r\n" lines
	code, err := strconv.Atoi(string(statusLine[len("HTTP/1.1 "):min(len(statusLine), len("HTTP/1.1 ")+3)]))
	if err != nil || code < 400 || code > 599 {
		return nil, false
	}
	switch {
	case string(head) == rawErrorHeaders && !bytes.ContainsAny(body, "\r"):
	case code == http.StatusExpectationFailed && len(body) == 0 && onlyHeaders(string(head), "Connection", "Date", "Content-Length"):
	default:
		return nil, false
	}
	var b bytes.Buffer
	b.Grow(len(p) + 600)
	b.Write(statusLine)
	b.WriteString("\r\n")
	for _, kv := range securityHeaders {
		b.WriteString(kv[0] + ": " + kv[1] + "\r\n")
	}
	b.Write(head)
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes(), true
}

// onlyHeaders reports whether head ("Name: value\r\n" lines) has only
// header fields of the given names, Content-Length among them being 0.
func onlyHeaders(head string, names ...string) bool {
	for line := range strings.SplitSeq(strings.TrimSuffix(head, "\r\n"), "\r\n") {
		name, value, ok := strings.Cut(line, ": ")
		if !ok || !containsFold(names, name) {
			return false
		}
		if strings.EqualFold(name, "Content-Length") && value != "0" {
			return false
		}
	}
	return true
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
