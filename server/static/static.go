// Package static serves a directory of built static files (the web app) over
// HTTP with the headers the app needs: exact Content-Types (application/wasm
// among them), precompressed .br and .gz variants, strong content-hash ETags,
// revalidating Cache-Control, and a strict set of security headers including
// cross-origin isolation (COOP/COEP).
//
// Only GET and HEAD are served. Directories are never listed: a directory
// serves its index.html if it has one and is 404 otherwise. Requests cannot
// leave the root: dot segments, encoded separators, backslashes, NUL bytes,
// dotfiles and symbolic links that resolve outside the root (or onto a
// dotfile) all fail with 400 or 404. Byte ranges are served for up to 8
// disjoint ranges; a request for more, or for overlapping ones, gets the
// whole file.
//
// NewServer and Listen make the http.Server around the handler: timeouts
// that free the connections of stalled clients without cutting slow
// downloads, and the security headers on the errors net/http answers itself.
package static

import (
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bagnetweb/bagnet/web"
)

// securityHeaders are set on every response, errors included.
var securityHeaders = [...][2]string{
	{"Content-Security-Policy", web.HeaderCSP}, // the page's one policy (package web)
	{"X-Content-Type-Options", "nosniff"},
	{"Referrer-Policy", "no-referrer"},
	{"Cross-Origin-Opener-Policy", "same-origin"},
	{"Cross-Origin-Embedder-Policy", "require-corp"},
	{"Cross-Origin-Resource-Policy", "same-origin"},
}

// contentTypes fixes the types of the files the app is made of, independent
// of the host's mime.types.
var contentTypes = map[string]string{
	".html":        "text/html; charset=utf-8",
	".js":          "text/javascript; charset=utf-8",
	".mjs":         "text/javascript; charset=utf-8",
	".css":         "text/css; charset=utf-8",
	".wasm":        "application/wasm",
	".json":        "application/json",
	".webmanifest": "application/manifest+json",
	".safetensors": "application/octet-stream",
	".png":         "image/png",
	".jpg":         "image/jpeg",
	".jpeg":        "image/jpeg",
	".svg":         "image/svg+xml",
	".ico":         "image/x-icon",
	".txt":         "text/plain; charset=utf-8",
}

// ContentType returns the Content-Type served for a file name: a fixed type
// for the extensions of the app's files, else the system's type for the
// extension, else application/octet-stream (never a sniffed type).
func ContentType(name string) string {
	ext := strings.ToLower(path.Ext(name))
	if t, ok := contentTypes[ext]; ok {
		return t
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

// encoding is a content coding and the suffix of its precompressed files.
type encoding struct{ name, suffix string }

// encodings are the precompressed variants looked for, by Accept-Encoding
// name and file suffix, in order of preference when the client accepts
// several equally.
var encodings = [...]encoding{
	{"br", ".br"},
	{"gzip", ".gz"},
}

// Options configures a handler made by NewHandler.
type Options struct {
	// Logger, if not nil, receives one line per request with the method,
	// the quoted path, the status, the bytes of body written and the
	// duration.
	Logger *log.Logger
}

// handler serves files from the directory dir.
type handler struct {
	dir    string // absolute, possibly through symbolic links
	logger *log.Logger

	mu    sync.Mutex
	etags map[string]etagEntry // by resolved file path
}

// etagEntry caches a file's content hash for one size and modification time.
type etagEntry struct {
	size int64
	mod  time.Time
	hash string
}

// NewHandler returns a handler that serves the files under dir. The
// directory must exist; it is resolved again on every request, so it may be
// rebuilt (removed and created) while the handler runs.
func NewHandler(dir string, opts Options) (http.Handler, error) {
	if dir == "" {
		return nil, errors.New("static: no directory given")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("static: directory %q: %w", dir, err)
	}
	fi, err := os.Stat(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("static: directory %q does not exist", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("static: directory %q: %w", dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("static: %q is not a directory", dir)
	}
	return &handler{dir: abs, logger: opts.Logger, etags: make(map[string]etagEntry)}, nil
}

// ServeHTTP implements http.Handler.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.logger == nil {
		h.serve(w, r)
		return
	}
	start := time.Now()
	lw := &logWriter{ResponseWriter: w}
	h.serve(lw, r)
	status := lw.status
	if status == 0 {
		status = http.StatusOK
	}
	h.logger.Printf("%s %q %d %dB %s", r.Method, r.URL.Path, status, lw.n, time.Since(start))
}

func (h *handler) serve(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	for _, kv := range securityHeaders {
		hdr.Set(kv[0], kv[1])
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		fail(w, http.StatusMethodNotAllowed)
		return
	}
	name, dirSlash, code := cleanPath(r.URL.Path, r.URL.RawPath)
	if code != 0 {
		fail(w, code)
		return
	}
	root, err := filepath.EvalSymlinks(h.dir)
	if err != nil {
		fail(w, http.StatusNotFound) // the directory is being rebuilt
		return
	}
	file, fi, err := resolve(root, name)
	if err != nil {
		fail(w, http.StatusNotFound)
		return
	}
	if fi.IsDir() {
		name = path.Join(name, "index.html")
		if file, fi, err = resolve(root, name); err != nil || !fi.Mode().IsRegular() {
			fail(w, http.StatusNotFound)
			return
		}
		if !dirSlash {
			// A relative redirect: it works behind a path prefix,
			// and "./" keeps a name like "a:b" from reading as a
			// scheme, so it cannot point to another site.
			target := "./" + url.PathEscape(path.Base(r.URL.Path)) + "/"
			if r.URL.RawQuery != "" {
				target += "?" + r.URL.RawQuery
			}
			hdr.Set("Location", target)
			hdr.Set("Cache-Control", "no-cache")
			w.WriteHeader(http.StatusMovedPermanently)
			return
		}
	} else if dirSlash || !fi.Mode().IsRegular() {
		fail(w, http.StatusNotFound)
		return
	}

	// The response depends on Accept-Encoding whenever a variant might
	// exist, so say so on every file response.
	hdr.Add("Vary", "Accept-Encoding")
	if rh := r.Header.Get("Range"); rh != "" && !reasonableRanges(rh, fi.Size()) {
		// RFC 9110, section 14.2: a server MAY ignore a Range
		// header; this one asks for many or overlapping ranges,
		// so send the whole file instead of a multipart reply
		// many times its size.
		r = withoutRange(r)
	}
	enc := ""
	if r.Header.Get("Range") == "" { // ranges only apply to identity responses
		for _, e := range negotiate(r.Header.Values("Accept-Encoding")) {
			vfile, vfi, err := resolve(root, name+e.suffix)
			// A variant older than its original is stale: ignore it.
			if err == nil && vfi.Mode().IsRegular() && !vfi.ModTime().Before(fi.ModTime()) {
				enc, file = e.name, vfile
				break
			}
		}
	}

	f, err := os.Open(file)
	if err != nil {
		fail(w, http.StatusNotFound)
		return
	}
	defer f.Close()
	sfi, err := f.Stat()
	if err != nil || !sfi.Mode().IsRegular() {
		fail(w, http.StatusNotFound)
		return
	}
	hash, err := h.contentHash(file, f, sfi)
	if err != nil {
		fail(w, http.StatusInternalServerError)
		return
	}
	hdr.Set("Content-Type", ContentType(name))
	hdr.Set("Cache-Control", "no-cache")
	if enc != "" {
		hash += "-" + enc // distinct from the identity response's tag
	}
	hdr.Set("ETag", `"`+hash+`"`)
	if enc != "" {
		hdr.Set("Content-Encoding", enc)
		// ServeContent omits the length when Content-Encoding is
		// set: encodedWriter adds it to a 200 response, and only
		// to that (a 304 or 412 has no body).
		w = &encodedWriter{ResponseWriter: w, size: sfi.Size()}
	}
	http.ServeContent(w, r, "", sfi.ModTime(), f)
}

// encodedWriter sends a precompressed file: it sets the Content-Length of
// the file on a 200 response, and removes Content-Encoding from any other
// (a 412 Precondition Failed written by http.ServeContent has no body, so
// announcing the file's length there would leave the client waiting for
// bytes that never come).
type encodedWriter struct {
	http.ResponseWriter
	size        int64
	wroteHeader bool
}

func (w *encodedWriter) WriteHeader(code int) {
	if !w.wroteHeader && code >= 200 {
		w.wroteHeader = true
		if code == http.StatusOK {
			w.Header().Set("Content-Length", strconv.FormatInt(w.size, 10))
		} else {
			w.Header().Del("Content-Encoding")
			w.Header().Del("Content-Length")
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *encodedWriter) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// ReadFrom keeps the underlying writer's io.ReaderFrom (sendfile) in use.
func (w *encodedWriter) ReadFrom(r io.Reader) (int64, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return io.Copy(w.ResponseWriter, r)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *encodedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// maxRanges is the most byte ranges served from one request. Browsers ask
// for one range at a time (media, resumed downloads); more are served only
// when they do not overlap.
const maxRanges = 8

// reasonableRanges reports whether the Range header h, for a file of size
// bytes, asks for at most maxRanges byte ranges that do not overlap. A
// header it cannot parse counts as reasonable: http.ServeContent answers it
// (416 for a malformed one). Per RFC 9110, section 14.2, a server may
// ignore a request for more than two overlapping ranges or for many small
// ranges; this one ignores any overlap and more than maxRanges.
func reasonableRanges(h string, size int64) bool {
	spec, ok := strings.CutPrefix(h, "bytes=")
	if !ok {
		return true
	}
	type span struct{ start, end int64 } // inclusive
	var spans []span
	for ra := range strings.SplitSeq(spec, ",") {
		ra = strings.TrimSpace(ra)
		if ra == "" {
			continue
		}
		if len(spans) == maxRanges {
			return false
		}
		first, last, ok := strings.Cut(ra, "-")
		if !ok {
			return true
		}
		first, last = strings.TrimSpace(first), strings.TrimSpace(last)
		var s span
		if first == "" { // a suffix: the last n bytes
			n, err := strconv.ParseInt(last, 10, 64)
			if err != nil || n < 0 {
				return true
			}
			s = span{max(size-n, 0), size - 1}
		} else {
			a, err := strconv.ParseInt(first, 10, 64)
			if err != nil || a < 0 {
				return true
			}
			s = span{a, size - 1}
			if last != "" {
				b, err := strconv.ParseInt(last, 10, 64)
				if err != nil || b < a {
					return true
				}
				s.end = min(b, size-1)
			}
		}
		if s.start >= size || s.end < s.start {
			continue // outside the file: ServeContent skips it
		}
		spans = append(spans, s)
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.start, b.start) })
	for i := 1; i < len(spans); i++ {
		if spans[i].start <= spans[i-1].end {
			return false
		}
	}
	return true
}

// withoutRange returns a copy of r without its Range header.
func withoutRange(r *http.Request) *http.Request {
	r2 := *r
	r2.Header = r.Header.Clone()
	r2.Header.Del("Range")
	return &r2
}

// fail writes an error response that no cache keeps.
func fail(w http.ResponseWriter, code int) {
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, http.StatusText(code), code)
}

// cleanPath checks a request path and returns it as a slash-separated name
// relative to the root ("." for the root itself), and whether it ended in a
// slash. It returns a non-zero status for a path that must not be served:
// 400 for encoded separators, backslashes and NUL bytes; 404 for dot segments
// and dotfiles.
func cleanPath(p, raw string) (name string, dirSlash bool, code int) {
	lower := strings.ToLower(raw)
	if strings.Contains(lower, "%2f") || strings.Contains(lower, "%5c") ||
		strings.ContainsAny(p, "\\\x00") {
		return "", false, http.StatusBadRequest
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	var segs []string
	for seg := range strings.SplitSeq(p[1:], "/") {
		if seg == "" {
			continue
		}
		if strings.HasPrefix(seg, ".") {
			return "", false, http.StatusNotFound
		}
		segs = append(segs, seg)
	}
	name = strings.Join(segs, "/")
	if name == "" {
		name = "."
	}
	if !filepath.IsLocal(filepath.FromSlash(name)) {
		return "", false, http.StatusNotFound
	}
	return name, strings.HasSuffix(p, "/"), 0
}

// errOutside reports a name that resolves outside the root or onto a dotfile.
var errOutside = errors.New("static: path resolves outside the served tree")

// resolve follows the symbolic links in name (relative to root, which has
// none) and returns the resulting path and its FileInfo. The result must lie
// inside root and must not pass through a dotfile.
func resolve(root, name string) (string, fs.FileInfo, error) {
	file, err := filepath.EvalSymlinks(filepath.Join(root, filepath.FromSlash(name)))
	if err != nil {
		return "", nil, err
	}
	rel, err := filepath.Rel(root, file)
	if err != nil || !filepath.IsLocal(rel) {
		return "", nil, errOutside
	}
	for seg := range strings.SplitSeq(filepath.ToSlash(rel), "/") {
		if seg != "." && strings.HasPrefix(seg, ".") {
			return "", nil, errOutside
		}
	}
	fi, err := os.Stat(file)
	if err != nil {
		return "", nil, err
	}
	return file, fi, nil
}

// contentHash returns a hash of f's content, cached by path, size and
// modification time, and leaves f positioned at its start.
func (h *handler) contentHash(key string, f *os.File, fi fs.FileInfo) (string, error) {
	h.mu.Lock()
	e, ok := h.etags[key]
	h.mu.Unlock()
	if ok && e.size == fi.Size() && e.mod.Equal(fi.ModTime()) {
		return e.hash, nil
	}
	s := sha256.New()
	if _, err := io.Copy(s, f); err != nil {
		return "", fmt.Errorf("static: hashing %s: %w", key, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("static: rewinding %s: %w", key, err)
	}
	// 128 bits are plenty to tell versions of a file apart.
	hash := base64.RawURLEncoding.EncodeToString(s.Sum(nil)[:16])
	h.mu.Lock()
	h.etags[key] = etagEntry{size: fi.Size(), mod: fi.ModTime(), hash: hash}
	h.mu.Unlock()
	return hash, nil
}

// negotiate returns the precompressed encodings the Accept-Encoding header
// values allow (q > 0), best first: by q-value, then br before gzip. A coding
// not named takes the q-value of "*" if present; tokens with a malformed
// q-value are ignored.
func negotiate(values []string) []encoding {
	q := map[string]float64{}
	for _, v := range values {
		for tok := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(tok, ";")
			coding = strings.ToLower(strings.TrimSpace(coding))
			if coding == "x-gzip" {
				coding = "gzip"
			}
			weight, ok := qValue(params)
			if coding == "" || !ok {
				continue
			}
			if old, seen := q[coding]; !seen || weight > old {
				q[coding] = weight
			}
		}
	}
	type choice struct {
		enc encoding
		q   float64
	}
	var choices []choice
	for _, e := range encodings {
		w, ok := q[e.name]
		if !ok {
			w = q["*"] // zero if absent
		}
		if w > 0 {
			choices = append(choices, choice{e, w})
		}
	}
	// A stable sort keeps the order of preference among equal weights.
	slices.SortStableFunc(choices, func(a, b choice) int { return cmp.Compare(b.q, a.q) })
	out := make([]encoding, len(choices))
	for i, c := range choices {
		out[i] = c.enc
	}
	return out
}

// qValue parses the parameters after a coding (";q=0.5") and returns the
// weight, 1 when absent, and false when malformed or out of range.
func qValue(params string) (float64, bool) {
	weight := 1.0
	for p := range strings.SplitSeq(params, ";") {
		k, v, _ := strings.Cut(p, "=")
		if !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || f < 0 || f > 1 {
			return 0, false
		}
		weight = f
	}
	return weight, true
}

// logWriter records the status and body size of a response for logging.
type logWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (w *logWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *logWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.n += int64(n)
	return n, err
}

// ReadFrom keeps the underlying writer's io.ReaderFrom (sendfile) in use.
func (w *logWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := io.Copy(w.ResponseWriter, r)
	w.n += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *logWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
