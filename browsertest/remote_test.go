package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bagnetweb/bagnet/protocol"
)

// The tests of browsers other than Chromium (Firefox over WebDriver BiDi,
// WebKitGTK over classic WebDriver) share the site and its server with the
// Chromium tests, but not the browser: each starts its own and drives one
// page through remotePage. They skip when their browser is missing.

const (
	// remoteStartTimeout bounds starting a browser and its session.
	remoteStartTimeout = 2 * time.Minute
	// remoteStateTimeout bounds one wait for a page state: WebKit took 7 s
	// to get ready on an idle 2-core machine, so minutes leave room for a
	// loaded one.
	remoteStateTimeout = 3 * time.Minute
	// remoteTestTimeout bounds a whole test of one browser.
	remoteTestTimeout = 12 * time.Minute
)

// remotePage is one page of a browser driven over WebDriver.
type remotePage interface {
	// navigate loads url and returns once the document has loaded.
	navigate(ctx context.Context, url string) error
	// eval evaluates a JavaScript expression in the page and returns its
	// value as JSON (null for undefined).
	eval(ctx context.Context, expr string) (json.RawMessage, error)
	// setFile chooses the file at path in the <input type=file> that the
	// CSS selector sel selects, as a user would.
	setFile(ctx context.Context, sel, path string) error
	// screenshot returns a PNG of the page.
	screenshot(ctx context.Context) ([]byte, error)
}

// rtab drives a remotePage like tab drives a Chromium tab.
type rtab struct {
	ctx  context.Context
	p    remotePage
	name string // the browser, for messages and screenshot names
}

// needSite prepares the site and its server (once) and skips t when the
// browser tests cannot run here.
func needSite(t *testing.T) {
	t.Helper()
	if err := prepareSite(); err != nil {
		t.Fatalf("browsertest setup: %v", err)
	}
	if siteSkip != "" {
		t.Skip(siteSkip)
	}
}

// browserBinary returns the program named by the environment variable env,
// else def, and skips t when it is not there (or in -short mode). With CI
// set (.ci/run installs the browsers), a missing program fails t.
func browserBinary(t *testing.T, env, def, install string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser tests skipped in -short mode")
	}
	p := os.Getenv(env)
	if p == "" {
		p = def
	}
	if !isProgram(p) {
		missing(t, fmt.Sprintf("needs %s (%s; set %s to use another)", p, install, env))
	}
	return p
}

// isProgram reports whether p is an executable file.
func isProgram(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// missing skips t for want of something, or fails it under CI.
func missing(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(why + ": CI must install it (.ci/run)")
	}
	t.Skip(why)
}

// str evaluates expr, which must give a string.
func (rt *rtab) str(expr string) (string, error) {
	raw, err := rt.p.eval(rt.ctx, expr)
	if err != nil {
		return "", err
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%.80q gave %.100s, want a string", expr, raw)
	}
	return s, nil
}

// state describes the page's data-state and #error, for failure messages.
func (rt *rtab) state() string {
	s, err := rt.str(`"data-state=" + JSON.stringify(document.body?.dataset.state ?? null) +
		"; #error: " + JSON.stringify(document.querySelector("#error")?.textContent.trim() ?? "")`)
	if err != nil {
		return "page state unknown: " + err.Error()
	}
	return s
}

// waitFor evaluates expr every 100 ms until it gives a non-empty string,
// and returns it; evaluation errors (while the page loads) are retried.
func (rt *rtab) waitFor(t *testing.T, expr string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(rt.ctx, remoteStateTimeout)
	defer cancel()
	var last error
	for {
		raw, err := rt.p.eval(ctx, expr)
		var s string
		if err == nil && json.Unmarshal(raw, &s) == nil && s != "" {
			return s
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: waited %v for %.100s; %s; last evaluation error: %v",
				rt.name, remoteStateTimeout, expr, rt.state(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// readyJS gives "ready" or "error" once the page has settled after loading.
const readyJS = `["ready", "error"].includes(document.body?.dataset.state) ? document.body.dataset.state : ""`

// open loads the app from the suite's server with query ("?simd=0"),
// waits for data-state=ready and returns how long that took.
func (rt *rtab) open(t *testing.T, query string) time.Duration {
	t.Helper()
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(rt.ctx, remoteStateTimeout)
	defer cancel()
	if err := rt.p.navigate(ctx, suite.srv.URL+"/"+query); err != nil {
		t.Fatalf("%s: navigate: %v", rt.name, err)
	}
	if st := rt.waitFor(t, readyJS); st != "ready" {
		t.Fatalf("%s: page state %q while loading, want ready; %s", rt.name, st, rt.state())
	}
	return time.Since(t0)
}

// classify uploads the image file through input#file, waits until the page
// is done, and returns its result (window.bagnetResult) and the time from
// the upload to done.
func (rt *rtab) classify(t *testing.T, path string) (protocol.Result, time.Duration) {
	t.Helper()
	if _, err := rt.p.eval(rt.ctx, armJS); err != nil {
		t.Fatalf("%s: %v", rt.name, err)
	}
	t0 := time.Now()
	if err := rt.p.setFile(rt.ctx, "#file", path); err != nil {
		t.Fatalf("%s: upload %s: %v", rt.name, path, err)
	}
	if st := rt.waitFor(t, settledJS); st != "done" {
		t.Fatalf("%s: after uploading %s: %s, want done", rt.name, filepath.Base(path), rt.state())
	}
	d := time.Since(t0)
	raw, err := rt.p.eval(rt.ctx, "window.bagnetResult")
	if err != nil {
		t.Fatalf("%s: read window.bagnetResult: %v", rt.name, err)
	}
	var r protocol.Result
	if err := jsonUnmarshal(raw, &r); err != nil {
		t.Fatalf("%s: window.bagnetResult: %v\n%.300s", rt.name, err, raw)
	}
	return r, d
}

// checkPageOrigin fails t when the page loaded anything from another origin
// than the server's (as its resource timing entries show: the page's own
// requests, not its workers'), or recorded a Content Security Policy
// violation (when the browser's driver installed the recorder, cspRecorderJS).
func (rt *rtab) checkPageOrigin(t *testing.T) {
	t.Helper()
	raw, err := rt.p.eval(rt.ctx, `[location.href, ...performance.getEntriesByType("resource").map(e => e.name)]`)
	var urls []string
	if err == nil {
		err = json.Unmarshal(raw, &urls)
	}
	if err != nil {
		t.Errorf("%s: the page's resource entries: %v", rt.name, err)
	}
	if len(urls) < 2 {
		t.Errorf("%s: the page's resource entries show no request but the page's: %q", rt.name, urls)
	}
	if foreign := foreignURLs(suite.srv.URL, urls); len(foreign) > 0 {
		t.Errorf("%s: the page loaded from other origins than %s: %q", rt.name, suite.srv.URL, foreign)
	}
	raw, err = rt.p.eval(rt.ctx, `window.__cspViolations ?? []`)
	var v []string
	if err == nil {
		err = json.Unmarshal(raw, &v)
	}
	if err != nil {
		t.Errorf("%s: Content Security Policy violations: %v", rt.name, err)
	}
	if len(v) > 0 {
		t.Errorf("%s: Content Security Policy violations:\n\t%s", rt.name, strings.Join(v, "\n\t"))
	}
}

// saveScreenshot writes testout/<browser>-name.png.
func (rt *rtab) saveScreenshot(t *testing.T, name string) {
	b, err := rt.p.screenshot(rt.ctx)
	if err == nil {
		err = os.WriteFile(filepath.Join(suite.out, rt.name+"-"+name+".png"), b, 0o644)
	}
	if err != nil {
		t.Errorf("%s: screenshot: %v", rt.name, err)
	}
}

// testRemoteMatchesNative loads the app in rt's browser with WebAssembly
// SIMD and with the pure-Go fallback, classifies a session of uploads in
// each, and checks that every result equals the native engine's bit for bit
// and that the page requested nothing from another origin.
func testRemoteMatchesNative(t *testing.T, rt *rtab) {
	tenchPath := filepath.Join(suite.samples, tench)
	other := filepath.Join(suite.site, "samples", siteSample(t))
	for _, mode := range []struct {
		name, query, engine string
		images              []string
	}{
		// The default engine: SIMD on every band worker; three uploads
		// in a row (the second image differs, the third repeats the
		// first: the page must not keep state between images).
		{"simd", "", "Engine: WebAssembly SIMD, ", []string{tenchPath, other, tenchPath}},
		{"fallback-1-worker", "?simd=0&workers=1", "Engine: WebAssembly without SIMD (SIMD turned off), 1 worker.", []string{tenchPath}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			ready := rt.open(t, mode.query)
			body, err := rt.str(`document.body.textContent.replace(/\s+/g, " ")`)
			if err != nil {
				t.Fatalf("%s: %v", rt.name, err)
			}
			if !strings.Contains(body, mode.engine) {
				_, rest, _ := strings.Cut(body, "Engine:")
				t.Errorf("%s: the page does not say %q; it says \"Engine:%.80s\"", rt.name, mode.engine, rest)
			}
			for i, img := range mode.images {
				got, d := rt.classify(t, img)
				// Timings for the record (not asserted): the page
				// load (cold for the first mode, the service
				// worker's cache after) and each upload to done.
				t.Logf("%s %s: page load to ready %v; upload %d (%s) to done %v", rt.name, mode.name,
					ready.Round(time.Millisecond), i+1, filepath.Base(img), d.Round(time.Millisecond))
				checkResult(t, fmt.Sprintf("%s %s upload %d (%s)", rt.name, mode.name, i+1, filepath.Base(img)),
					got, nativeFor(t, img, got))
				if i == 0 && mode.name == "simd" {
					rt.saveScreenshot(t, "done")
				}
			}
			rt.checkPageOrigin(t)
		})
	}
}

// remoteBrowser is a browser a remote test started.
type remoteBrowser interface {
	close()
	versionText() string
}

func (ff *firefox) versionText() string { return ff.version }
func (wk *webkit) versionText() string  { return wk.version }

// launch starts a browser with start (what names it) within
// remoteStartTimeout, logs how long that took and closes it when the test
// ends.
func launch[B remoteBrowser](t *testing.T, ctx context.Context, what string, start func(context.Context) (B, error)) B {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, remoteStartTimeout)
	defer cancel()
	t0 := time.Now()
	b, err := start(sctx)
	if err != nil {
		t.Fatalf("start %s: %v", what, err)
	}
	t.Cleanup(b.close)
	t.Logf("%s started in %v", b.versionText(), time.Since(t0).Round(time.Millisecond))
	return b
}
