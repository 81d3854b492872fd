package browsertest

import (
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"image"
	"image/png"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/bagnetweb/bagnet/engine"
	"github.com/bagnetweb/bagnet/internal/testmodel"
	"github.com/bagnetweb/bagnet/protocol"
	"github.com/bagnetweb/bagnet/server/static"
)

const (
	defaultChromium = "/usr/bin/chromium"
	defaultModel    = "weights/shipped/bagnet33_imagenette_int8.safetensors"

	// buildTimeout bounds the site build (two wasm binaries on a slow machine).
	buildTimeout = 10 * time.Minute
	// tabTimeout bounds each test's tab; the wasm worker alone takes
	// seconds to start on a slow machine, and tabs run in parallel
	// (TestThousandClasses took over 2 minutes beside the others on 2
	// loaded cores). stateTimeout still bounds each wait.
	tabTimeout = 5 * time.Minute
	// stateTimeout bounds one wait for a page state.
	stateTimeout = 60 * time.Second
	// extraModel is the name of the site's second model (models/ in the site).
	extraModel = "test-bagnet9.safetensors"
)

// suite is what TestMain prepares once for all browser tests.
var suite struct {
	skip    string // why the Chromium tests are skipped; "" runs them
	root    string // repository root
	samples string // the sample images (../shared/data/samples)
	site    string // the built site
	model   string // the model file the site was built with
	extra   string // the second model of the site's picker ("" with BROWSERTEST_SITE)
	eng     *engine.Engine
	srv     *httptest.Server // serves site for every test but the offline one
	browser context.Context  // holds the started browser
	out     string           // testout/ for screenshots
}

// setupOnce prepares the suite on first use, so that a run of only the
// helper tests builds nothing.
var (
	setupOnce sync.Once
	setupErr  error
	siteOnce  sync.Once
	siteErr   error
	siteSkip  string // why every browser's tests are skipped; "" runs them
	cleanups  []func()
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	os.Exit(code)
}

// setup builds the site, starts the server and the browser, or sets
// suite.skip when the browser tests cannot run here.
func setup() error {
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = defaultChromium
	}
	if testing.Short() {
		suite.skip = "browser tests skipped in -short mode"
		return nil
	}
	if _, err := os.Stat(chromium); err != nil {
		suite.skip = fmt.Sprintf("browser tests need Chromium at %s (run `make chromium`, or set CHROMIUM): %v", chromium, err)
		return nil
	}
	if err := prepareSite(); err != nil || siteSkip != "" {
		suite.skip = siteSkip
		return err
	}
	return startChromium(chromium)
}

// prepareSite runs setupSite once: the site, its server and the native
// engine, which the tests of every browser share.
func prepareSite() error {
	siteOnce.Do(func() { siteErr = setupSite() })
	return siteErr
}

// setupSite builds the site and starts its server, or sets siteSkip
// when the browser tests cannot run here.
func setupSite() error {
	if testing.Short() {
		siteSkip = "browser tests skipped in -short mode"
		return nil
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	suite.root = root
	suite.samples = filepath.Join(root, "..", "shared", "data", "samples")
	if _, err := os.Stat(filepath.Join(suite.samples, "n01440764_tench.jpg")); err != nil {
		siteSkip = fmt.Sprintf("browser tests need the sample images of ../shared beside the checkout: %v", err)
		return nil
	}

	tmp, err := os.MkdirTemp("", "browsertest-")
	if err != nil {
		return err
	}
	cleanups = append(cleanups, func() { os.RemoveAll(tmp) })

	if site := os.Getenv("BROWSERTEST_SITE"); site != "" {
		// A site built before: its own model file is the reference.
		if !filepath.IsAbs(site) {
			site = filepath.Join(root, site)
		}
		suite.site = site
		suite.model = filepath.Join(site, "model.safetensors")
	} else {
		if suite.model, err = modelFile(root, tmp); err != nil {
			return err
		}
		suite.site = filepath.Join(tmp, "site")
		t0 := time.Now()
		// A second model for the model picker (models/ in the site).
		extra, err := testmodel.Int8(testmodel.Options{Arch: "bagnet9", InputSize: 96, Seed: 7})
		if err != nil {
			return err
		}
		suite.extra = filepath.Join(tmp, extraModel)
		if err := os.WriteFile(suite.extra, extra, 0o644); err != nil {
			return err
		}
		if err := buildSite(root, suite.model, suite.extra, suite.samples, suite.site); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "browsertest: built the site with %s in %v\n", suite.model, time.Since(t0).Round(time.Millisecond))
	}
	if suite.eng, err = engine.LoadFile(suite.model); err != nil {
		return fmt.Errorf("native engine: %w", err)
	}

	h, err := static.NewHandler(suite.site, static.Options{})
	if err != nil {
		return fmt.Errorf("static handler: %w", err)
	}
	suite.srv = httptest.NewServer(h)
	cleanups = append(cleanups, suite.srv.Close)

	suite.out = filepath.Join(root, "testout")
	return os.MkdirAll(suite.out, 0o755)
}

// startChromium starts the browser the chromedp tests share.
func startChromium(chromium string) error {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
	)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, bcancel := chromedp.NewContext(actx)
	cleanups = append(cleanups, acancel, bcancel)
	if err := chromedp.Do(bctx); err != nil {
		return fmt.Errorf("start %s: %w", chromium, err)
	}
	suite.browser = bctx
	return nil
}

// repoRoot finds the module root above the working directory.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod above %s", dir)
		}
	}
}

// modelFile picks the model: $BAGNET_MODEL, else the trained default model,
// else a random int8 model written into dir.
func modelFile(root, dir string) (string, error) {
	if p := os.Getenv("BAGNET_MODEL"); p != "" {
		if !filepath.IsAbs(p) {
			p = filepath.Join(root, p)
		}
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("BAGNET_MODEL: %w", err)
		}
		return p, nil
	}
	if p := filepath.Join(root, defaultModel); fileExists(p) {
		return p, nil
	}
	b, err := testmodel.Int8(testmodel.Options{InputSize: 128, Width: 0.25})
	if err != nil {
		return "", fmt.Errorf("random test model: %w", err)
	}
	p := filepath.Join(dir, "random_int8.safetensors")
	return p, os.WriteFile(p, b, 0o644)
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// buildSite runs cmd/mksite from the repository root.
func buildSite(root, model, extra, samples, out string) error {
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "run", "./cmd/mksite", "-model", model, "-extra-models", extra, "-samples", samples, "-o", out)
	cmd.Dir = root
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		hint := ""
		if strings.Contains(buf.String(), "_gen") || strings.Contains(buf.String(), "undefined: Root") {
			hint = "\n(the generated ui code may be missing: run `make generate`)"
		}
		return fmt.Errorf("build the site: %s: %w\n%s%s", strings.Join(cmd.Args, " "), err, buf.Bytes(), hint)
	}
	return nil
}

// needBrowser prepares the suite (once) and skips t when the browser tests
// cannot run here.
func needBrowser(t *testing.T) {
	t.Helper()
	setupOnce.Do(func() { setupErr = setup() })
	if setupErr != nil {
		t.Fatalf("browsertest setup: %v", setupErr)
	}
	if suite.skip != "" {
		t.Skip(suite.skip)
	}
}

// tab is one browser tab, in a browser context of its own (so each test
// starts with no service worker and no cache), that records every request
// and every console message of the page and of its dedicated workers.
type tab struct {
	t      *testing.T
	ctx    context.Context // the tab, bounded by tabTimeout
	origin string          // the origin the tab was opened on

	mu         sync.Mutex
	urls       []string // URLs of all requests, in order
	logs       []string // console calls, exceptions and browser log entries
	violations []string // Content Security Policy violations (blocked loads)
	failed     []string // responses with an HTTP error status: "404 URL"
	checked    bool     // checkOrigin ran
}

// newTab opens a tab. On failure, the test prints what the page logged.
//
// Each tab has a browser context of its own, so tests that use only their
// tab, the shared server and files of their own run in parallel
// (t.Parallel; go test -parallel bounds how many tabs are open at once).
// Tests that stop a server, or depend on a service worker's timing, stay
// serial: TestOffline, TestSiteModels.
func newTab(t *testing.T) *tab {
	t.Helper()
	needBrowser(t)
	tb := &tab{t: t}
	ctx, cancel := chromedp.NewContext(suite.browser,
		chromedp.WithNewBrowserContext(),
		chromedp.WithListener(tb.listener("page")))
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	tctx, tcancel := context.WithTimeout(ctx, tabTimeout)
	t.Cleanup(tcancel)
	tb.ctx = tctx
	// Pause every new dedicated worker (the inference worker) until it is
	// attached with the Network domain on, so that its requests are seen
	// too: Chromium reports them on the worker's own session only.
	_, err := chromedp.Call(tctx, target.SetAutoAttach, target.SetAutoAttachParams{
		AutoAttach:             true,
		WaitForDebuggerOnStart: true,
		Flatten:                new(true),
		Filter:                 target.Filter{{Type: "worker"}, {Exclude: true}},
	})
	if err != nil {
		t.Fatalf("auto-attach to workers: %v", err)
	}
	t.Cleanup(func() {
		if tb.origin != "" && !tb.checked {
			tb.checkOrigin()
		}
		if t.Failed() {
			tb.dumpLogs()
		}
	})
	return tb
}

// listener returns the event handler of one target (the page or a worker).
// It runs in the target's event loop: it must return fast.
func (tb *tab) listener(from string) func(ev any) {
	return func(ev any) {
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			tb.mu.Lock()
			tb.urls = append(tb.urls, ev.Request.URL)
			tb.mu.Unlock()
		case *network.EventResponseReceived:
			if r := ev.Response; r != nil && r.Status >= 400 {
				tb.mu.Lock()
				tb.failed = append(tb.failed, fmt.Sprintf("%d %s", r.Status, r.URL))
				tb.mu.Unlock()
			}
		case *runtime.EventConsoleAPICalled:
			var args []string
			for _, a := range ev.Args {
				args = append(args, remoteText(a))
			}
			tb.logf("%s console.%s: %s", from, ev.Type, strings.Join(args, " "))
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			tb.logf("%s exception at %s:%d:%d: %s", from, d.URL, d.LineNumber+1, d.ColumnNumber+1, msg)
		case *log.EventEntryAdded:
			e := ev.Entry
			tb.logf("%s log %s %s: %s %s", from, e.Level, e.Source, e.Text, e.URL)
			if e.Source == log.EntrySourceSecurity && strings.Contains(e.Text, "Content Security Policy") {
				// A load the policy blocked: it never reaches the
				// Network domain, so it is caught here.
				tb.mu.Lock()
				if !slices.Contains(tb.violations, e.Text) {
					tb.violations = append(tb.violations, e.Text)
				}
				tb.mu.Unlock()
			}
		case *target.EventAttachedToTarget:
			if ev.WaitingForDebugger && ev.TargetInfo != nil {
				go tb.attachWorker(ev.TargetInfo)
			}
		}
	}
}

// attachWorker attaches to a paused worker with the tab's listener, then
// lets it run.
func (tb *tab) attachWorker(info *target.Info) {
	name := "worker " + info.URL
	wctx, _ := chromedp.NewContext(tb.ctx, // ends with the tab
		chromedp.WithTargetID(info.TargetID),
		chromedp.WithListener(tb.listener(name)))
	if err := chromedp.Do(wctx); err != nil {
		tb.logf("%s: attach: %v", name, err)
		return
	}
	if _, err := chromedp.Call(wctx, runtime.RunIfWaitingForDebugger, cdp.Empty{}); err != nil {
		tb.logf("%s: resume: %v", name, err)
	}
}

func remoteText(o *runtime.RemoteObject) string {
	switch {
	case o == nil:
		return "<nil>"
	case len(o.Value) > 0:
		return string(o.Value)
	case o.UnserializableValue != "":
		return string(o.UnserializableValue)
	case o.Description != "":
		return o.Description
	}
	return string(o.Type)
}

func (tb *tab) logf(format string, args ...any) {
	tb.mu.Lock()
	tb.logs = append(tb.logs, fmt.Sprintf(format, args...))
	tb.mu.Unlock()
}

func (tb *tab) dumpLogs() {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "page and worker messages (%d):\n", len(tb.logs))
	for _, l := range tb.logs {
		fmt.Fprintf(&b, "\t%s\n", l)
	}
	fmt.Fprintf(&b, "requests (%d):\n", len(tb.urls))
	for _, u := range tb.urls {
		fmt.Fprintf(&b, "\t%s\n", u)
	}
	tb.t.Log(b.String())
}

// checkOrigin fails the test if a request of the page or its workers got an
// HTTP error status, or if the page or its dedicated workers requested
// anything from another origin than the page's, or tried to and were blocked
// by the Content Security Policy. The service worker's own fetches (its
// precache) are not seen here: TestOffline checks what it cached.
func (tb *tab) checkOrigin() {
	tb.t.Helper()
	tb.checked = true
	if foreign := foreignURLs(tb.origin, tb.requests()); len(foreign) > 0 {
		tb.t.Errorf("requests to other origins than %s: %q", tb.origin, foreign)
	}
	tb.mu.Lock()
	v := slices.Clone(tb.violations)
	tb.mu.Unlock()
	if len(v) > 0 {
		tb.t.Errorf("Content Security Policy violations:\n\t%s", strings.Join(v, "\n\t"))
	}
	tb.mu.Lock()
	failed := slices.Clone(tb.failed)
	tb.mu.Unlock()
	if len(failed) > 0 { // a missing favicon.ico, a file the site lacks
		tb.t.Errorf("requests that failed: %q", failed)
	}
}

// requests returns the URLs requested so far.
func (tb *tab) requests() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	return append([]string(nil), tb.urls...)
}

// open navigates to the page at base and waits for data-state=ready.
func (tb *tab) open(base string) { tb.t.Helper(); tb.openQuery(base, "") }

// openQuery is open with a query string ("?simd=0").
func (tb *tab) openQuery(base, query string) {
	tb.t.Helper()
	tb.origin = base
	if err := chromedp.Do(tb.ctx, chromedp.Navigate(base+"/"+query)); err != nil {
		tb.t.Fatalf("navigate to %s: %v", base, err)
	}
	tb.waitReady()
}

// waitReady waits until the page says data-state=ready.
func (tb *tab) waitReady() {
	tb.t.Helper()
	st := tb.waitFor(`["ready", "error"].includes(document.body?.dataset.state) ? document.body.dataset.state : ""`)
	if st != "ready" {
		tb.t.Fatalf("page state %q while loading, want ready; #error: %q", st, tb.text("#error"))
	}
}

// waitFor evaluates the JavaScript expression every 100 ms until it gives a
// non-empty string, and returns it. Errors while the page (re)loads are
// retried; the test fails after stateTimeout.
func (tb *tab) waitFor(expr string) string {
	tb.t.Helper()
	v, ok := tb.tryWaitFor(expr, stateTimeout)
	if !ok {
		st, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`String(document.body?.dataset.state)`))
		msg := fmt.Sprintf("waited %v for %s; data-state=%q", stateTimeout, expr, st)
		if v != "" {
			msg += "; last evaluation error: " + v
		}
		tb.t.Fatal(msg)
	}
	return v
}

// tryWaitFor is waitFor with a timeout that is not fatal: on timeout it
// returns the last evaluation error (or "") and false.
func (tb *tab) tryWaitFor(expr string, timeout time.Duration) (string, bool) {
	ctx, cancel := context.WithTimeout(tb.ctx, timeout)
	defer cancel()
	var last error
	for {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err == nil && v != "" {
			return v, true
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return last.Error(), false
			}
			return "", false
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// armJS starts recording changes of data-state and forgets the last result,
// so that a later wait sees only what the next action causes.
const armJS = `(() => {
	if (window.__bt) window.__bt.obs.disconnect();
	const bt = window.__bt = {states: []};
	bt.obs = new MutationObserver(() => bt.states.push(document.body.dataset.state));
	bt.obs.observe(document.body, {attributes: true, attributeFilter: ["data-state"]});
	window.bagnetResult = undefined;
})()`

// settledJS gives the state the page settled in after armJS: "done" (with a
// result) or "error", else "".
const settledJS = `(() => {
	const s = window.__bt?.states ?? [];
	const last = s[s.length - 1];
	if (last === "error") return last;
	if (last === "done" && window.bagnetResult !== undefined) return last;
	return "";
})()`

// classify runs trigger (an upload or a drop) and waits until the page has
// settled in "done" or "error", which it returns.
func (tb *tab) classify(trigger chromedp.Action[chromedp.Void]) string {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](armJS), trigger); err != nil {
		tb.t.Fatalf("start a classification: %v", err)
	}
	return tb.waitFor(settledJS)
}

// upload sets the file of input#file.
func upload(path string) chromedp.Action[chromedp.Void] {
	return chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{path})
}

// result reads window.bagnetResult.
func (tb *tab) result() protocol.Result {
	tb.t.Helper()
	raw, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]byte](`window.bagnetResult`))
	if err != nil {
		tb.t.Fatalf("read window.bagnetResult: %v", err)
	}
	var r protocol.Result
	if err := jsonUnmarshal(raw, &r); err != nil {
		tb.t.Fatalf("window.bagnetResult: %v\n%s", err, raw)
	}
	return r
}

// text is the text content of the first element matching sel, or "" if none.
func (tb *tab) text(sel string) string {
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](
		fmt.Sprintf(`document.querySelector(%q)?.textContent ?? ""`, sel)))
	if err != nil {
		tb.t.Errorf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(v)
}

// picture reads the canvas of the picture sel selects (ui/draw.go: an
// element of the template holding a canvas).
func (tb *tab) picture(sel string) image.Image {
	tb.t.Helper()
	dataURL, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](fmt.Sprintf(`(() => {
		const c = document.querySelector(%q + " > canvas");
		if (!(c instanceof HTMLCanvasElement)) return "no canvas";
		if (!c.width || !c.height) return "a canvas of " + c.width + "x" + c.height;
		return c.toDataURL("image/png");
	})()`, sel)))
	if err != nil {
		tb.t.Fatalf("read %s: %v", sel, err)
	}
	b64, ok := strings.CutPrefix(dataURL, "data:image/png;base64,")
	if !ok {
		tb.t.Fatalf("%s: %.100s", sel, dataURL)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		tb.t.Fatalf("%s data URL: %v", sel, err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		tb.t.Fatalf("%s PNG: %v", sel, err)
	}
	return img
}

// screenshot saves a full-page PNG as testout/name.png.
func (tb *tab) screenshot(name string) {
	tb.t.Helper()
	buf, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(suite.out, name+".png"), buf, 0o644); err != nil {
		tb.t.Error(err)
	}
}

// screenshotOf saves a picture of the page's element sel (a CSS
// selector) as testout/NAME.png: the README's pictures of each feature
// come from these (docs/*.png).
func (tb *tab) screenshotOf(sel, name string) {
	tb.t.Helper()
	buf, err := chromedp.Run(tb.ctx, chromedp.Screenshot(chromedp.CSS(sel)))
	if err != nil {
		tb.t.Errorf("screenshot of %s: %v", sel, err)
		return
	}
	if err := os.WriteFile(filepath.Join(suite.out, name+".png"), buf, 0o644); err != nil {
		tb.t.Error(err)
	}
}

// native classifies img with the native engine, like `bagnet classify -json`.
func native(t *testing.T, img []byte, topK int) protocol.Result {
	t.Helper()
	a, err := suite.eng.Classify(img, topK)
	if err != nil {
		t.Fatalf("native classify: %v", err)
	}
	return a.Result
}
