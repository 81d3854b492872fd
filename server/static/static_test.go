package static

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// site is a served tree in a temporary directory, with a secret outside it.
type site struct {
	root    string
	outside string
	h       http.Handler
	log     *bytes.Buffer
}

// files of the test site; the values are their contents.
var files = map[string]string{
	"index.html":        "<!doctype html><title>home</title>",
	"sw.js":             "self.addEventListener('fetch', () => {});",
	"app.js":            strings.Repeat("console.log('app');\n", 50),
	"mod.mjs":           "export const x = 1;",
	"style.css":         "body { margin: 0 }",
	"bagnet.wasm":       "\x00asm\x01\x00\x00\x00",
	"data.json":         `{"classes": 10}`,
	"site.webmanifest":  `{"name": "BagNet"}`,
	"model.safetensors": "\x08\x00\x00\x00\x00\x00\x00\x00{}      ",
	"img.png":           "\x89PNG\r\n\x1a\n",
	"photo.jpg":         "\xff\xd8\xff\xe0",
	"photo.jpeg":        "\xff\xd8\xff\xe1",
	"logo.svg":          `<svg xmlns="http://www.w3.org/2000/svg"/>`,
	"favicon.ico":       "\x00\x00\x01\x00",
	"robots.txt":        "User-agent: *\n",
	"same.txt":          "User-agent: *\n", // same content as robots.txt
	"noext":             "<html><script>alert(1)</script>",
	"app.js.br":         "pretend brotli bytes of app.js",
	"style.css.gz":      "", // written as real gzip below
	"only.txt":          "only gzip is missing",
	"only.txt.br":       "brotli of only.txt",
	"stale.js":          "new content",
	"stale.js.br":       "brotli of OLD content",
	"stale.js.gz":       "gzip of OLD content",
	"sub/index.html":    "<p>sub</p>",
	"sub/page.html":     "<p>page</p>",
	"sub/index.html.gz": "gzip of sub index",
	"empty/.keep":       "",
	"a:b/index.html":    "colon",
	"sp ace/index.html": "space",
	".git/config":       "[core]",
	".env":              "SECRET=1",
	"sub/.hidden":       "hidden",
}

func newSite(t *testing.T) *site {
	t.Helper()
	root, outside := t.TempDir(), t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if name == "style.css.gz" {
			content = gzipString(t, files["style.css"])
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Variants must not be older than their originals, except stale.js's.
	past := time.Now().Add(-time.Hour)
	for _, name := range []string{"app.js", "style.css", "only.txt", "sub/index.html"} {
		if err := os.Chtimes(filepath.Join(root, name), past, past); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"stale.js.br", "stale.js.gz"} {
		if err := os.Chtimes(filepath.Join(root, name), past, past); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("outside secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	links := map[string]string{
		"link.txt":   "robots.txt",                            // inside, relative
		"abs.txt":    filepath.Join(root, "sub", "page.html"), // inside, absolute
		"alias":      "sub",                                   // directory inside
		"chain.txt":  "link.txt",                              // link to a link inside
		"escape.txt": filepath.Join(outside, "secret.txt"),    // outside, absolute
		"rel.txt":    filepath.Join("..", filepath.Base(outside), "secret.txt"),
		"escdir":     outside,                              // directory outside
		"up":         "..",                                 // parent of the root
		"peek":       ".git/config",                        // dotfile inside
		"sub/back":   "../.env",                            // dotfile via parent
		"dangling":   "missing.txt",                        // nothing
		"esc.js":     filepath.Join(outside, "secret.txt"), // escaping original...
		"esc.js.br":  "app.js.br",                          // ...with a variant
		"app.txt":    "robots.txt",                         // inside original...
		"app.txt.gz": filepath.Join(outside, "secret.txt"), // ...escaping variant
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, filepath.FromSlash(name))); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	h, err := NewHandler(root, Options{Logger: log.New(&buf, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	return &site{root: root, outside: outside, h: h, log: &buf}
}

func gzipString(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// do sends a request with the given headers ("Name: value") to the handler.
func (s *site) do(method, target string, headers ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		r.Header.Add(k, v)
	}
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, r)
	return w
}

func (s *site) read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.root, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestContentType(t *testing.T) {
	s := newSite(t)
	tests := []struct{ path, want string }{
		{"/index.html", "text/html; charset=utf-8"},
		{"/app.js", "text/javascript; charset=utf-8"},
		{"/mod.mjs", "text/javascript; charset=utf-8"},
		{"/style.css", "text/css; charset=utf-8"},
		{"/bagnet.wasm", "application/wasm"},
		{"/data.json", "application/json"},
		{"/site.webmanifest", "application/manifest+json"},
		{"/model.safetensors", "application/octet-stream"},
		{"/img.png", "image/png"},
		{"/photo.jpg", "image/jpeg"},
		{"/photo.jpeg", "image/jpeg"},
		{"/logo.svg", "image/svg+xml"},
		{"/favicon.ico", "image/x-icon"},
		{"/robots.txt", "text/plain; charset=utf-8"},
		{"/", "text/html; charset=utf-8"},
		{"/sub/", "text/html; charset=utf-8"},
		{"/noext", "application/octet-stream"}, // HTML content, never sniffed
	}
	for _, tt := range tests {
		w := s.do("GET", tt.path)
		if w.Code != http.StatusOK {
			t.Errorf("GET %s: status %d, want 200", tt.path, w.Code)
			continue
		}
		if got := w.Header().Get("Content-Type"); got != tt.want {
			t.Errorf("GET %s: Content-Type %q, want %q", tt.path, got, tt.want)
		}
		if got := w.Header().Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s: X-Content-Type-Options %q, want nosniff", tt.path, got)
		}
	}
	if got := ContentType("A.WASM"); got != "application/wasm" {
		t.Errorf("ContentType(A.WASM) = %q, want application/wasm", got)
	}
}

func TestServesFileContent(t *testing.T) {
	s := newSite(t)
	tests := []struct{ path, file string }{
		{"/", "index.html"},
		{"/index.html", "index.html"},
		{"/?v=2", "index.html"},
		{"/sub/", "sub/index.html"},
		{"/sub/page.html", "sub/page.html"},
		{"//sub//page.html", "sub/page.html"},
		{"/bagnet.wasm", "bagnet.wasm"},
		{"/link.txt", "robots.txt"},
		{"/chain.txt", "robots.txt"},
		{"/abs.txt", "sub/page.html"},
		{"/alias/", "sub/index.html"},
		{"/alias/page.html", "sub/page.html"},
	}
	// Through a link to the root's parent and back inside: allowed, since
	// what counts is where the path finally resolves.
	tests = append(tests, struct{ path, file string }{"/up/" + filepath.Base(s.root) + "/robots.txt", "robots.txt"})
	for _, tt := range tests {
		w := s.do("GET", tt.path)
		if w.Code != http.StatusOK || w.Body.String() != s.read(t, tt.file) {
			t.Errorf("GET %s: %d %q, want 200 with the content of %s", tt.path, w.Code, w.Body, tt.file)
		}
		if got, want := w.Header().Get("Content-Length"), strconv.Itoa(len(s.read(t, tt.file))); got != want {
			t.Errorf("GET %s: Content-Length %q, want %s", tt.path, got, want)
		}
	}
}

func TestDirectories(t *testing.T) {
	s := newSite(t)
	tests := []struct {
		path     string
		code     int
		location string
	}{
		{"/empty/", http.StatusNotFound, ""},
		{"/empty", http.StatusNotFound, ""},
		{"/sub", http.StatusMovedPermanently, "./sub/"},
		{"/alias", http.StatusMovedPermanently, "./alias/"},
		{"/sub?x=1", http.StatusMovedPermanently, "./sub/?x=1"},
		{"//sub", http.StatusMovedPermanently, "./sub/"},
		{"/a:b", http.StatusMovedPermanently, "./a:b/"},
		{"/sp%20ace", http.StatusMovedPermanently, "./sp%20ace/"},
		{"/robots.txt/", http.StatusNotFound, ""},
		{"/missing.html", http.StatusNotFound, ""},
		{"/missing/", http.StatusNotFound, ""},
		{"/dangling", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		w := s.do("GET", tt.path)
		if w.Code != tt.code || w.Header().Get("Location") != tt.location {
			t.Errorf("GET %s: %d Location %q, want %d %q", tt.path, w.Code, w.Header().Get("Location"), tt.code, tt.location)
		}
		if strings.Contains(w.Body.String(), ".keep") {
			t.Errorf("GET %s lists the directory: %q", tt.path, w.Body)
		}
	}
}

func TestTraversal(t *testing.T) {
	s := newSite(t)
	tests := []struct {
		target string
		code   int
	}{
		{"/../" + filepath.Base(s.outside) + "/secret.txt", http.StatusNotFound},
		{"/sub/../../" + filepath.Base(s.outside) + "/secret.txt", http.StatusNotFound},
		{"/sub/../index.html", http.StatusNotFound},
		{"/./index.html", http.StatusNotFound},
		{"/%2e%2e/" + filepath.Base(s.outside) + "/secret.txt", http.StatusNotFound},
		{"/%2E%2E/%2e%2e/etc/passwd", http.StatusNotFound},
		{"/sub/..%2f..%2fetc/passwd", http.StatusBadRequest},
		{"/sub%2Findex.html", http.StatusBadRequest},
		{"/sub%5c..%5cindex.html", http.StatusBadRequest},
		{"/sub\\..\\index.html", http.StatusBadRequest},
		{"/index.html%00.txt", http.StatusBadRequest},
		{"/escape.txt", http.StatusNotFound},
		{"/rel.txt", http.StatusNotFound},
		{"/escdir/secret.txt", http.StatusNotFound},
		{"/escdir/", http.StatusNotFound},
		{"/up/" + filepath.Base(s.outside) + "/secret.txt", http.StatusNotFound},
		{"/esc.js", http.StatusNotFound},
		{"/.git/config", http.StatusNotFound},
		{"/.git/", http.StatusNotFound},
		{"/.env", http.StatusNotFound},
		{"/sub/.hidden", http.StatusNotFound},
		{"/%2eenv", http.StatusNotFound},
		{"/peek", http.StatusNotFound},
		{"/sub/back", http.StatusNotFound},
	}
	for _, tt := range tests {
		for _, ae := range []string{"", "br, gzip"} {
			w := s.do("GET", tt.target, "Accept-Encoding: "+ae)
			if w.Code != tt.code {
				t.Errorf("GET %s (Accept-Encoding %q): status %d, want %d", tt.target, ae, w.Code, tt.code)
			}
			if b := w.Body.String(); strings.Contains(b, "secret") || strings.Contains(b, "[core]") || strings.Contains(b, "home") {
				t.Errorf("GET %s: leaked %q", tt.target, b)
			}
		}
	}
	// A variant that escapes is not served even though the original is inside.
	w := s.do("GET", "/app.txt", "Accept-Encoding: gzip")
	if w.Code != http.StatusOK || w.Body.String() != files["robots.txt"] || w.Header().Get("Content-Encoding") != "" {
		t.Errorf("GET /app.txt with an escaping .gz: %d %q %q, want the identity content", w.Code, w.Header().Get("Content-Encoding"), w.Body)
	}
}

// TestTraversalRaw sends literal request lines over loopback TCP, so that no
// client normalises the paths first.
func TestTraversalRaw(t *testing.T) {
	s := newSite(t)
	srv := httptest.NewServer(s.h)
	defer srv.Close()
	out := filepath.Base(s.outside)
	tests := []struct {
		target string
		code   int
	}{
		{"/index.html", http.StatusOK},
		{"/../" + out + "/secret.txt", http.StatusNotFound},
		{"/../../../../../../etc/passwd", http.StatusNotFound},
		{"/%2e%2e/" + out + "/secret.txt", http.StatusNotFound},
		{"/.%2e/" + out + "/secret.txt", http.StatusNotFound},
		{"/%2e%2e%2f" + out + "%2fsecret.txt", http.StatusBadRequest},
		{"/..\\" + out + "\\secret.txt", http.StatusBadRequest},
		{"/..%5c" + out + "%5csecret.txt", http.StatusBadRequest},
		{"/escape.txt", http.StatusNotFound},
		{"/.git/config", http.StatusNotFound},
		{"/%00", http.StatusBadRequest},
	}
	for _, tt := range tests {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", tt.target)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("GET %s: %v", tt.target, err)
		}
		body, _ := io.ReadAll(resp.Body)
		conn.Close()
		if resp.StatusCode != tt.code {
			t.Errorf("GET %s: status %d, want %d", tt.target, resp.StatusCode, tt.code)
		}
		if strings.Contains(string(body), "secret") {
			t.Errorf("GET %s: leaked %q", tt.target, body)
		}
	}
}

func TestNegotiation(t *testing.T) {
	s := newSite(t)
	tests := []struct {
		path, ae string
		want     string // "", "br" or "gzip"
	}{
		{"/app.js", "", ""},
		{"/app.js", "br", "br"},
		{"/app.js", "gzip", ""}, // app.js has no .gz
		{"/style.css", "gzip", "gzip"},
		{"/style.css", "x-gzip", "gzip"},
		{"/style.css", "br, gzip", "gzip"}, // style.css has no .br
		{"/only.txt", "gzip, deflate, br, zstd", "br"},
		{"/only.txt", "gzip;q=1, br;q=0.9", "br"}, // the only variant there is
		{"/sub/", "gzip", "gzip"},
		{"/sub/index.html", "gzip", "gzip"},
		{"/app.js", "BR", "br"},
		{"/app.js", "br;q=0", ""},
		{"/app.js", "br; q=0.0, gzip", ""},
		{"/app.js", "*", "br"},
		{"/app.js", "*;q=0", ""},
		{"/app.js", "br;q=0, *", ""},
		{"/style.css", "br;q=0, *", "gzip"},
		{"/style.css", "gzip;q=0, *", ""},
		{"/app.js", "identity", ""},
		{"/app.js", "deflate", ""},
		{"/app.js", "br;q=abc", ""},
		{"/app.js", "br;q=2", ""},
		{"/app.js", "br;q=0.001", "br"},
		{"/stale.js", "br, gzip", ""}, // variants older than the original
		{"/bagnet.wasm", "br, gzip", ""},
	}
	for _, tt := range tests {
		w := s.do("GET", tt.path, "Accept-Encoding: "+tt.ae)
		if w.Code != http.StatusOK {
			t.Errorf("GET %s (%q): status %d", tt.path, tt.ae, w.Code)
			continue
		}
		file := strings.TrimPrefix(tt.path, "/")
		if strings.HasSuffix(file, "/") || file == "" {
			file += "index.html"
		}
		orig := file
		switch tt.want {
		case "br":
			file += ".br"
		case "gzip":
			file += ".gz"
		}
		if got := w.Header().Get("Content-Encoding"); got != tt.want {
			t.Errorf("GET %s (%q): Content-Encoding %q, want %q", tt.path, tt.ae, got, tt.want)
		}
		if got, want := w.Body.String(), s.read(t, file); got != want {
			t.Errorf("GET %s (%q): body %q, want %s: %q", tt.path, tt.ae, got, file, want)
		}
		if got, want := w.Header().Get("Content-Length"), strconv.Itoa(len(s.read(t, file))); got != want {
			t.Errorf("GET %s (%q): Content-Length %q, want %s", tt.path, tt.ae, got, want)
		}
		if got := w.Header().Get("Vary"); got != "Accept-Encoding" {
			t.Errorf("GET %s (%q): Vary %q, want Accept-Encoding", tt.path, tt.ae, got)
		}
		// TestContentType checks ContentType against the expected types.
		if got, want := w.Header().Get("Content-Type"), ContentType(orig); got != want {
			t.Errorf("GET %s (%q): Content-Type %q, want %q", tt.path, tt.ae, got, want)
		}
	}

	// Several header lines are combined.
	r := httptest.NewRequest("GET", "/only.txt", nil)
	r.Header.Add("Accept-Encoding", "gzip")
	r.Header.Add("Accept-Encoding", "br")
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, r)
	if got := w.Header().Get("Content-Encoding"); got != "br" {
		t.Errorf("two Accept-Encoding lines: Content-Encoding %q, want br", got)
	}

	// The gzip variant is real gzip of the original, served with its type.
	w = s.do("GET", "/style.css", "Accept-Encoding: gzip")
	zr, err := gzip.NewReader(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil || string(plain) != files["style.css"] {
		t.Errorf("gunzip(GET /style.css) = %q, %v; want %q", plain, err, files["style.css"])
	}
	if got := w.Header().Get("Content-Type"); got != "text/css; charset=utf-8" {
		t.Errorf("gzip /style.css: Content-Type %q, want the original's", got)
	}
}

func TestRangeIsIdentity(t *testing.T) {
	s := newSite(t)
	w := s.do("GET", "/app.js", "Accept-Encoding: br", "Range: bytes=0-6")
	if w.Code != http.StatusPartialContent || w.Header().Get("Content-Encoding") != "" || w.Body.String() != files["app.js"][:7] {
		t.Errorf("Range with br: %d %q %q, want 206 identity %q", w.Code, w.Header().Get("Content-Encoding"), w.Body, files["app.js"][:7])
	}
	if got, want := w.Header().Get("Content-Range"), fmt.Sprintf("bytes 0-6/%d", len(files["app.js"])); got != want {
		t.Errorf("Content-Range %q, want %q", got, want)
	}
}

func TestETag(t *testing.T) {
	s := newSite(t)
	etag := func(path string, headers ...string) string {
		t.Helper()
		w := s.do("GET", path, headers...)
		if w.Code != http.StatusOK {
			t.Fatalf("GET %s: status %d", path, w.Code)
		}
		return w.Header().Get("ETag")
	}
	robots := etag("/robots.txt")
	if !regexp.MustCompile(`^"[A-Za-z0-9_-]+"$`).MatchString(robots) {
		t.Fatalf("ETag %q is not a strong quoted tag", robots)
	}
	sum := sha256.Sum256([]byte(files["robots.txt"]))
	if want := `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`; robots != want {
		t.Errorf("ETag %q, want the content hash %q", robots, want)
	}
	if got := etag("/same.txt"); got != robots {
		t.Errorf("same content, different ETags: %q and %q", got, robots)
	}
	if got := etag("/index.html"); got == robots {
		t.Errorf("different content, same ETag %q", got)
	}
	id, br := etag("/app.js"), etag("/app.js", "Accept-Encoding: br")
	gz, gzID := etag("/style.css", "Accept-Encoding: gzip"), etag("/style.css")
	if id == br || gz == gzID || br == gz {
		t.Errorf("variants share ETags: app.js %q br %q; style.css %q gzip %q", id, br, gzID, gz)
	}
	if br != strings.TrimSuffix(etag("/app.js.br"), `"`)+`-br"` {
		t.Errorf("br ETag %q is not the hash of the .br file plus -br", br)
	}

	// Conditional requests.
	tests := []struct {
		path    string
		headers []string
		code    int
	}{
		{"/robots.txt", []string{"If-None-Match: " + robots}, http.StatusNotModified},
		{"/robots.txt", []string{"If-None-Match: \"other\", " + robots}, http.StatusNotModified},
		{"/robots.txt", []string{"If-None-Match: *"}, http.StatusNotModified},
		{"/robots.txt", []string{"If-None-Match: \"other\""}, http.StatusOK},
		{"/robots.txt", []string{"If-None-Match: W/" + robots}, http.StatusNotModified}, // weak comparison
		{"/app.js", []string{"If-None-Match: " + br, "Accept-Encoding: br"}, http.StatusNotModified},
		{"/app.js", []string{"If-None-Match: " + br}, http.StatusOK},
		{"/app.js", []string{"If-None-Match: " + id, "Accept-Encoding: br"}, http.StatusOK},
		{"/robots.txt", []string{"If-Modified-Since: " + time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)}, http.StatusNotModified},
	}
	for _, tt := range tests {
		w := s.do("GET", tt.path, tt.headers...)
		if w.Code != tt.code {
			t.Errorf("GET %s %q: status %d, want %d", tt.path, tt.headers, w.Code, tt.code)
		}
		if tt.code == http.StatusNotModified && w.Body.Len() != 0 {
			t.Errorf("GET %s %q: 304 with body %q", tt.path, tt.headers, w.Body)
		}
	}

	// A change of content and modification time changes the tag.
	p := filepath.Join(s.root, "robots.txt")
	if err := os.WriteFile(p, []byte("User-agent: bot\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(p, later, later); err != nil {
		t.Fatal(err)
	}
	if got := etag("/robots.txt"); got == robots {
		t.Errorf("ETag unchanged after the file changed: %q", got)
	}
	if w := s.do("GET", "/robots.txt", "If-None-Match: "+robots); w.Code != http.StatusOK || w.Body.String() != "User-agent: bot\n" {
		t.Errorf("old ETag after a change: %d %q, want 200 with the new content", w.Code, w.Body)
	}
}

// TestETagCache checks that hashes are cached by size and modification time:
// a rewrite that keeps both is not rehashed.
func TestETagCache(t *testing.T) {
	s := newSite(t)
	p := filepath.Join(s.root, "data.json")
	before := s.do("GET", "/data.json").Header().Get("ETag")
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	same := strings.ToUpper(files["data.json"])
	if err := os.WriteFile(p, []byte(same), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	if after := s.do("GET", "/data.json").Header().Get("ETag"); after != before {
		t.Errorf("ETag recomputed despite equal size and mtime: %q then %q", before, after)
	}
	later := fi.ModTime().Add(time.Second)
	if err := os.Chtimes(p, later, later); err != nil {
		t.Fatal(err)
	}
	if after := s.do("GET", "/data.json").Header().Get("ETag"); after == before {
		t.Errorf("ETag not recomputed after mtime changed: %q", after)
	}
}

func TestCacheControl(t *testing.T) {
	s := newSite(t)
	tests := []struct{ path, ae, want string }{
		{"/", "", "no-cache"},
		{"/index.html", "", "no-cache"},
		{"/sw.js", "", "no-cache"},
		{"/app.js", "", "no-cache"},
		{"/app.js", "br", "no-cache"},
		{"/bagnet.wasm", "", "no-cache"},
		{"/model.safetensors", "", "no-cache"},
		{"/missing", "", "no-store"},
	}
	for _, tt := range tests {
		w := s.do("GET", tt.path, "Accept-Encoding: "+tt.ae)
		if got := w.Header().Get("Cache-Control"); got != tt.want {
			t.Errorf("GET %s (%q): Cache-Control %q, want %q", tt.path, tt.ae, got, tt.want)
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	s := newSite(t)
	want := map[string]string{
		"Content-Security-Policy": "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; " +
			"worker-src 'self'; connect-src 'self'; img-src 'self' blob: data:; " +
			"style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'",
		"X-Content-Type-Options":       "nosniff",
		"Referrer-Policy":              "no-referrer",
		"Cross-Origin-Opener-Policy":   "same-origin",
		"Cross-Origin-Embedder-Policy": "require-corp",
		"Cross-Origin-Resource-Policy": "same-origin",
	}
	robots := s.do("GET", "/robots.txt").Header().Get("ETag")
	tests := []struct {
		method, path string
		headers      []string
		code         int
	}{
		{"GET", "/", nil, http.StatusOK},
		{"HEAD", "/bagnet.wasm", nil, http.StatusOK},
		{"GET", "/app.js", []string{"Accept-Encoding: br"}, http.StatusOK},
		{"GET", "/app.js", []string{"Range: bytes=1-2"}, http.StatusPartialContent},
		{"GET", "/robots.txt", []string{"If-None-Match: " + robots}, http.StatusNotModified},
		{"GET", "/sub", nil, http.StatusMovedPermanently},
		{"GET", "/missing", nil, http.StatusNotFound},
		{"GET", "/.env", nil, http.StatusNotFound},
		{"GET", "/a%2fb", nil, http.StatusBadRequest},
		{"POST", "/", nil, http.StatusMethodNotAllowed},
		{"GET", "/app.js", []string{"Range: bytes=9999-"}, http.StatusRequestedRangeNotSatisfiable},
	}
	for _, tt := range tests {
		w := s.do(tt.method, tt.path, tt.headers...)
		if w.Code != tt.code {
			t.Errorf("%s %s: status %d, want %d", tt.method, tt.path, w.Code, tt.code)
		}
		for k, v := range want {
			if got := w.Header().Values(k); len(got) != 1 || got[0] != v {
				t.Errorf("%s %s (%d): %s %q, want %q", tt.method, tt.path, tt.code, k, got, v)
			}
		}
	}
}

func TestMethods(t *testing.T) {
	s := newSite(t)
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"} {
		for _, path := range []string{"/", "/index.html", "/missing"} {
			w := s.do(m, path)
			if w.Code != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: status %d, want 405", m, path, w.Code)
			}
			if got := w.Header().Get("Allow"); got != "GET, HEAD" {
				t.Errorf("%s %s: Allow %q, want \"GET, HEAD\"", m, path, got)
			}
			if strings.Contains(w.Body.String(), "home") {
				t.Errorf("%s %s served the file", m, path)
			}
		}
	}
	if got := s.read(t, "index.html"); got != files["index.html"] {
		t.Errorf("index.html changed to %q", got)
	}
}

func TestHead(t *testing.T) {
	s := newSite(t)
	for _, tt := range []struct{ path, ae, file string }{
		{"/index.html", "", "index.html"},
		{"/bagnet.wasm", "", "bagnet.wasm"},
		{"/app.js", "br", "app.js.br"},
	} {
		get, head := s.do("GET", tt.path, "Accept-Encoding: "+tt.ae), s.do("HEAD", tt.path, "Accept-Encoding: "+tt.ae)
		if head.Code != http.StatusOK || head.Body.Len() != 0 {
			t.Errorf("HEAD %s: %d with %d body bytes, want 200 and none", tt.path, head.Code, head.Body.Len())
		}
		if got, want := head.Header().Get("Content-Length"), strconv.Itoa(len(s.read(t, tt.file))); got != want {
			t.Errorf("HEAD %s: Content-Length %q, want %s", tt.path, got, want)
		}
		for _, k := range []string{"Content-Type", "Content-Length", "Content-Encoding", "ETag", "Cache-Control", "Last-Modified", "Vary"} {
			if g, h := get.Header().Get(k), head.Header().Get(k); g != h {
				t.Errorf("%s %s: GET %q, HEAD %q", tt.path, k, g, h)
			}
		}
	}
}

func TestLogging(t *testing.T) {
	s := newSite(t)
	line := regexp.MustCompile(`^(\S+) ("(?:[^"\\]|\\.)*") (\d{3}) (\d+)B (\S+)$`)
	tests := []struct {
		method, target string
		headers        []string
		path           string
		code, bytes    int
	}{
		{"GET", "/robots.txt", nil, "/robots.txt", 200, len(files["robots.txt"])},
		{"HEAD", "/robots.txt", nil, "/robots.txt", 200, 0},
		{"GET", "/app.js", []string{"Accept-Encoding: br"}, "/app.js", 200, len(files["app.js.br"])},
		{"GET", "/app.js", []string{"Range: bytes=0-9"}, "/app.js", 206, 10},
		{"GET", "/missing", nil, "/missing", 404, len("Not Found\n")},
		{"DELETE", "/", nil, "/", 405, len("Method Not Allowed\n")},
		{"GET", "/a%0Ab", nil, "/a\nb", 404, len("Not Found\n")},
	}
	for _, tt := range tests {
		s.log.Reset()
		w := s.do(tt.method, tt.target, tt.headers...)
		out := s.log.String()
		if strings.Count(out, "\n") != 1 {
			t.Errorf("%s %s: logged %q, want one line", tt.method, tt.target, out)
			continue
		}
		m := line.FindStringSubmatch(strings.TrimSuffix(out, "\n"))
		if m == nil {
			t.Errorf("%s %s: log line %q has the wrong form", tt.method, tt.target, out)
			continue
		}
		path, err := strconv.Unquote(m[2])
		if m[1] != tt.method || err != nil || path != tt.path || m[3] != strconv.Itoa(w.Code) || w.Code != tt.code {
			t.Errorf("%s %s: logged %q, want method, path %q and status %d", tt.method, tt.target, out, tt.path, tt.code)
		}
		if m[4] != strconv.Itoa(tt.bytes) || w.Body.Len() != tt.bytes {
			t.Errorf("%s %s: logged %sB, wrote %d, want %d", tt.method, tt.target, m[4], w.Body.Len(), tt.bytes)
		}
		if d, err := time.ParseDuration(m[5]); err != nil || d < 0 || d > time.Minute {
			t.Errorf("%s %s: logged duration %q: %v", tt.method, tt.target, m[5], err)
		}
	}

	// Without a logger nothing is written and files are still served.
	h, err := NewHandler(s.root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/robots.txt", nil))
	if w.Code != http.StatusOK || w.Body.String() != files["robots.txt"] {
		t.Errorf("handler without logger: %d %q", w.Code, w.Body)
	}
}

// TestLoggingServer checks the byte count over a real connection, where the
// file is sent through io.ReaderFrom.
func TestLoggingServer(t *testing.T) {
	s := newSite(t)
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	if err := os.WriteFile(filepath.Join(s.root, "big.bin"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.h)
	resp, err := http.Get(srv.URL + "/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	srv.Close() // waits for the handler to return
	if err != nil || !bytes.Equal(body, big) {
		t.Fatalf("GET /big.bin: %d bytes, %v; want %d", len(body), err, len(big))
	}
	if want := fmt.Sprintf(`GET "/big.bin" 200 %dB `, len(big)); !strings.HasPrefix(s.log.String(), want) {
		t.Errorf("logged %q, want prefix %q", s.log.String(), want)
	}
}

func TestNewHandlerErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ dir, want string }{
		{"", "no directory"},
		{filepath.Join(dir, "missing"), "does not exist"},
		{file, "not a directory"},
	} {
		h, err := NewHandler(tt.dir, Options{})
		if err == nil || h != nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewHandler(%q) = %v, %v; want an error containing %q", tt.dir, h, err, tt.want)
		}
	}
}

// TestRootSymlinkAndRebuild serves a root reached through a symbolic link,
// and keeps serving after the directory is removed and built again.
func TestRootSymlinkAndRebuild(t *testing.T) {
	base := t.TempDir()
	build := filepath.Join(base, "build")
	if err := os.Mkdir(build, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(build, "index.html"), []byte("v1"), 0o644); err != nil {
		t.Fatal(err)
	}
	dist := filepath.Join(base, "dist")
	if err := os.Symlink("build", dist); err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(dist, Options{})
	if err != nil {
		t.Fatal(err)
	}
	get := func() (int, string) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
		return w.Code, w.Body.String()
	}
	if code, body := get(); code != http.StatusOK || body != "v1" {
		t.Fatalf("GET /: %d %q, want 200 v1", code, body)
	}
	if err := os.RemoveAll(build); err != nil {
		t.Fatal(err)
	}
	if code, _ := get(); code != http.StatusNotFound {
		t.Errorf("GET / with the directory gone: %d, want 404", code)
	}
	if err := os.Mkdir(build, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(build, "index.html"), []byte("v2"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, body := get(); code != http.StatusOK || body != "v2" {
		t.Errorf("GET / after the rebuild: %d %q, want 200 v2", code, body)
	}
}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		values []string
		want   string
	}{
		{nil, ""},
		{[]string{""}, ""},
		{[]string{"gzip, br"}, "br gzip"},
		{[]string{"gzip;q=0.9, br;q=0.8"}, "gzip br"},
		{[]string{"br;q=0.8, gzip;q=0.8"}, "br gzip"},
		{[]string{"br;q=0"}, ""},
		{[]string{"*;q=0.5, br;q=0.2"}, "gzip br"},
		{[]string{"gzip;q=0", "*"}, "br"},
		{[]string{"br;q=0, br;q=1"}, "br"}, // the higher of repeated weights
		{[]string{" BR ; Q=0.5 , GZIP "}, "gzip br"},
		{[]string{"br;q=-1, gzip;q=1.5, identity"}, ""},
		{[]string{"br;level=1;q=0.3, gzip;q=0.2"}, "br gzip"},
	}
	for _, tt := range tests {
		var names []string
		for _, e := range negotiate(tt.values) {
			names = append(names, e.name)
		}
		if got := strings.Join(names, " "); got != tt.want {
			t.Errorf("negotiate(%q) = %q, want %q", tt.values, got, tt.want)
		}
	}
}
