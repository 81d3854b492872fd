package browsertest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bagnetweb/bagnet/server/static"
)

// deployer serves one site directory at a time on an origin of its own;
// deploy swaps in another at once, as a host would, and records the
// requests that reach the server.
type deployer struct {
	t    *testing.T
	cur  atomic.Pointer[http.Handler]
	mu   sync.Mutex
	hits []string // paths requested since the last deploy
}

func (d *deployer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mu.Lock()
	d.hits = append(d.hits, strings.TrimPrefix(r.URL.Path, "/"))
	d.mu.Unlock()
	(*d.cur.Load()).ServeHTTP(w, r)
}

func (d *deployer) deploy(dir string) {
	d.t.Helper()
	h, err := static.NewHandler(dir, static.Options{})
	if err != nil {
		d.t.Fatal(err)
	}
	d.mu.Lock()
	d.hits = nil
	d.mu.Unlock()
	d.cur.Store(&h)
}

// newDeployment serves a copy of the suite's site, v1, through a new
// deployer on an origin of its own (stopped when the test ends).
func newDeployment(t *testing.T) (d *deployer, v1 string, srv *httptest.Server) {
	t.Helper()
	d = &deployer{t: t}
	v1 = copySite(t, suite.site)
	d.deploy(v1)
	srv = httptest.NewServer(d)
	t.Cleanup(srv.Close)
	return d, v1, srv
}

func (d *deployer) requests() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.hits...)
}

var (
	swVersion = regexp.MustCompile(`const VERSION = '([0-9a-f]+)';`)
	swAssets  = regexp.MustCompile(`const ASSETS = (\{.*\});`)
	pageVer   = regexp.MustCompile(`<meta name="bagnet-version" content="([0-9a-f]*)">`)
)

// copySite copies a built site into a new directory.
func copySite(t *testing.T, from string) string {
	t.Helper()
	to := filepath.Join(t.TempDir(), "site")
	err := filepath.WalkDir(from, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if e.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return to
}

// newVersion makes a new version of the site in dir, as cmd/mksite would
// write it: app.js marks the page with window.bagnetBuild = build, and
// index.html and sw.js name the new version, sw.js with every asset's
// SHA-256; worker.js logs "worker.js build <build>". With stale, sw.js is the new version's but app.js on the
// server is still the old one (a deploy caught half-way).
func newVersion(t *testing.T, dir, build string, stale bool) (version string) {
	t.Helper()
	path := func(f string) string { return filepath.Join(dir, filepath.FromSlash(f)) }
	read := func(f string) []byte {
		b, err := os.ReadFile(path(f))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	write := func(f string, b []byte) {
		if err := os.WriteFile(path(f), b, 0o644); err != nil {
			t.Fatal(err)
		}
		os.Remove(path(f) + ".gz") // the precompressed copies are the old file's
		os.Remove(path(f) + ".br")
	}
	sw := string(read("sw.js"))
	m := swAssets.FindStringSubmatch(sw)
	if m == nil || swVersion.FindStringSubmatch(sw) == nil {
		t.Fatalf("sw.js has no VERSION or ASSETS")
	}
	var assets map[string]string
	if err := json.Unmarshal([]byte(m[1]), &assets); err != nil {
		t.Fatal(err)
	}
	oldApp := read("app.js")
	app := regexp.MustCompile(`window\.bagnetBuild = "[^"]*";\n`).ReplaceAll(oldApp, nil)
	app = append([]byte(fmt.Sprintf("window.bagnetBuild = %q;\n", build)), app...)
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	assets["app.js"] = sum(app)
	// worker.js says which build it is in the console (the test reads it).
	wjs := regexp.MustCompile(`console\.log\("worker\.js build [^"]*"\);\n`).ReplaceAll(read("worker.js"), nil)
	wjs = append([]byte(fmt.Sprintf("console.log(\"worker.js build %s\");\n", build)), wjs...)
	assets["worker.js"] = sum(wjs)
	write("worker.js", wjs)
	version = sum([]byte(assets["app.js"] + build))[:16]
	index := pageVer.ReplaceAll(read("index.html"), []byte(`<meta name="bagnet-version" content="`+version+`">`))
	assets["index.html"] = sum(index)
	raw, _ := json.Marshal(assets)
	sw = swVersion.ReplaceAllString(sw, "const VERSION = '"+version+"';")
	sw = swAssets.ReplaceAllLiteralString(sw, "const ASSETS = "+string(raw)+";")
	if !stale {
		write("app.js", app)
	}
	write("index.html", index)
	write("sw.js", []byte(sw))
	return version
}

// A new deploy while a page is open: the page keeps running its own
// version's files (it classifies exactly, restarts a crashed worker from
// them, and fetches nothing of the new version) and offers the reload;
// after the reload the new version runs. A deploy caught half-way (sw.js
// new, app.js still old) is never installed: the version in use stays.
func TestUpdate(t *testing.T) {
	needBrowser(t)
	d, v1, srv := newDeployment(t)

	tb := newTab(t)
	tb.openQuery(srv.URL, "?testhooks=1")
	tb.waitFor(controlledJS)
	img := filepath.Join(suite.samples, tench)
	classify := func(what string) {
		t.Helper()
		if st := tb.classify(upload(img)); st != "done" {
			t.Fatalf("%s: data-state=%q; #error %q", what, st, tb.text("#error"))
		}
		got := tb.result()
		checkResult(t, what, got, nativeFor(t, img, got))
	}
	classify("version 1")
	build := func() string {
		v, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`String(window.bagnetBuild)`))
		return v
	}
	caches := func() string {
		v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`(async () =>
			(await caches.keys()).filter(k => k.startsWith("bagnet-")).sort().join(" "))()`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	const update = `navigator.serviceWorker.getRegistration().then(r => r.update())`
	const banner = `document.querySelector("#update")?.textContent.includes("A new version is ready") ? "yes" : ""`

	// Count the page's changes of service worker: the old page must keep
	// its own.
	if err := chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](`window.__swChanges = 0;
		navigator.serviceWorker.addEventListener("controllerchange", () => window.__swChanges++);`)); err != nil {
		t.Fatal(err)
	}

	// Version 2, deployed at once.
	v2dir := copySite(t, v1)
	v2 := newVersion(t, v2dir, "v2", false)
	d.deploy(v2dir)
	if err := chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](update)); err != nil {
		t.Fatal(err)
	}
	tb.waitFor(banner)
	t.Logf("version 2 installed beside version 1: caches %s", caches())
	// The old page keeps working on its own files: it classifies, and a
	// crashed worker comes back from version 1's copy.
	classify("the old page after the deploy")
	tb.post(`{type: "crash"}`)
	tb.waitFor(`window.bagnetRestarts === 1 && document.body.dataset.state !== "working" ? "yes" : ""`)
	classify("the old page's restarted worker after the deploy")
	if b := build(); b != "undefined" {
		t.Errorf("the old page runs build %q of app.js", b)
	}
	if n, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[int](`window.__swChanges`)); n != 0 {
		t.Errorf("the new version's service worker took over the old page (%d controller changes)", n)
	}
	tb.mu.Lock()
	for _, l := range tb.logs {
		if strings.Contains(l, "worker.js build v2") {
			t.Errorf("the old page's restarted worker ran version 2's worker.js: %s", l)
			break
		}
	}
	tb.mu.Unlock()
	counts := map[string]int{}
	for _, p := range d.requests() {
		counts[p]++
	}
	for _, f := range []string{"app.js", "worker.js", "worker.wasm", "load-wasm.js", "wasm_exec.js", "model.safetensors", "samples/" + tench} {
		if counts[f] > 1 { // version 2's install fetches each once
			t.Errorf("%s was requested %d times after the deploy: the old page fetched the new version's file", f, counts[f])
		}
	}
	t.Logf("requests reaching the server after the deploy: %d (version 2's install and update check)", len(d.requests()))

	// The user reloads: version 2 runs.
	if err := chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](armJS), chromedp.Evaluate[chromedp.Void](`document.querySelector("#update-reload").click()`)); err != nil {
		t.Fatal(err)
	}
	tb.waitFor(`window.bagnetBuild === "v2" && document.body.dataset.state === "ready" ? "yes" : ""`)
	if got := tb.waitFor(`document.querySelector('meta[name="bagnet-version"]')?.content`); got != v2 {
		t.Errorf("after the reload the page is version %q, want %q", got, v2)
	}
	classify("version 2")
	tb.mu.Lock()
	v2worker := slices.ContainsFunc(tb.logs, func(l string) bool { return strings.Contains(l, "worker.js build v2") })
	tb.mu.Unlock()
	if !v2worker {
		t.Errorf("after the reload the worker is not version 2's")
	}
	if got := caches(); got != "bagnet-"+v2 {
		t.Errorf("after version 2 took over, caches %q, want only bagnet-%s", got, v2)
	}

	// Version 3 caught half-way: its sw.js, but version 2's app.js.
	v3dir := copySite(t, v2dir)
	v3 := newVersion(t, v3dir, "v3", true)
	d.deploy(v3dir)
	fate, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`(async () => {
		const r = await navigator.serviceWorker.getRegistration();
		const found = new Promise((resolve) => r.addEventListener("updatefound", () => resolve(r.installing), {once: true}));
		r.update().catch(() => {});
		const w = await found;
		return await new Promise((resolve) => {
			const check = () => { if (w.state === "redundant" || w.state === "installed" || w.state === "activated") resolve(w.state); };
			w.addEventListener("statechange", check);
			check();
		});
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if fate != "redundant" {
		t.Errorf("the half-deployed version 3 ended %q, want redundant (its install must fail)", fate)
	}
	if got := caches(); strings.Contains(got, v3) || !strings.Contains(got, v2) {
		t.Errorf("after the half deploy: caches %q (version 2 %s, version 3 %s)", got, v2, v3)
	}
	time.Sleep(500 * time.Millisecond)
	if v, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[string](banner)); v != "" {
		t.Errorf("the half deploy is offered as a new version")
	}
	if err := chromedp.Do(tb.ctx, chromedp.Reload()); err != nil {
		t.Fatal(err)
	}
	tb.waitReady()
	if b := build(); b != "v2" {
		t.Errorf("after the half deploy and a reload, build %q runs, want v2", b)
	}
	classify("version 2 after the half deploy")
}
