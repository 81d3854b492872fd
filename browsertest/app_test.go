package browsertest

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bagnetweb/bagnet/engine"
	"github.com/bagnetweb/bagnet/internal/testmodel"
	"github.com/bagnetweb/bagnet/protocol"
	"github.com/bagnetweb/bagnet/server/static"
)

const tench = "n01440764_tench.jpg"

// TestUploadMatchesNative uploads an image through input#file and checks
// that the page shows and publishes exactly what the native engine computes
// for the same file and weights, and that it draws an evidence heatmap.
func TestUploadMatchesNative(t *testing.T) {
	t.Parallel() // independent tabs (see newTab)
	for _, tc := range []struct{ name, query, engine string }{
		{"simd", "?workers=1", "Engine: WebAssembly SIMD, 1 worker."},
		{"simd-2-workers", "?workers=2", "Engine: WebAssembly SIMD, 2 workers."},
		{"fallback", "?simd=0&workers=1", "Engine: WebAssembly without SIMD (SIMD turned off), 1 worker."},
		{"fallback-2-workers", "?simd=0&workers=2", "Engine: WebAssembly without SIMD (SIMD turned off), 2 workers."},
	} {
		t.Run(tc.name, func(t *testing.T) { testUpload(t, tc.query, tc.engine) })
	}
}

func testUpload(t *testing.T, query, engineText string) {
	tb := newTab(t)
	t0 := time.Now()
	tb.openQuery(suite.srv.URL, query)
	ready := time.Since(t0)
	tb.screenshot("ready")
	if body := tb.text("body"); !strings.Contains(body, engineText) {
		_, rest, _ := strings.Cut(body, "Engine:")
		t.Errorf("the page does not say %q; it says \"Engine:%.80s\"", engineText, rest)
	}

	img := filepath.Join(suite.samples, tench)
	t1 := time.Now()
	if st := tb.classify(upload(img)); st != "done" {
		t.Fatalf("after upload: data-state=%q, want done; #error: %q", st, tb.text("#error"))
	}
	// Timings for the record (not asserted): a cold page load (no cache) to
	// data-state=ready, and one classification from the upload to done.
	t.Logf("page load to ready %v; upload to done %v", ready.Round(time.Millisecond), time.Since(t1).Round(time.Millisecond))
	got := tb.result()
	want := nativeFor(t, img, got)
	checkResult(t, "upload "+tench, got, want)

	names, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll("#top .pred .name"), e => e.textContent.trim())`))
	switch {
	case err != nil:
		t.Errorf("read #top .pred .name: %v", err)
	case len(names) == 0:
		t.Errorf("no #top .pred .name shown")
	default:
		for i := range min(len(names), len(want.Top)) {
			if names[i] != want.Top[i].Name {
				t.Errorf("shown prediction %d is %q, want %q (shown: %q)", i+1, names[i], want.Top[i].Name, names)
			}
		}
	}
	if card := tb.text("#model-card"); card == "" {
		t.Errorf("#model-card is empty")
	}
	tb.screenshot("done")

	// The heatmap's canvas holds the evidence overlay: not blank.
	if heat := tb.picture("#heatmap"); distinctColors(heat, 2) < 2 {
		t.Errorf("#heatmap (%v) is blank", heat.Bounds().Size())
	}
}

// TestRequestsStayOnOrigin checks that loading the page and classifying an
// image request nothing from anywhere but the page's own origin, the
// inference worker's requests included. (Every other test checks this too,
// when its tab closes.)
func TestRequestsStayOnOrigin(t *testing.T) {
	t.Parallel() // independent tabs (see newTab)
	tb := newTab(t)
	tb.open(suite.srv.URL)
	if st := tb.classify(upload(filepath.Join(suite.samples, tench))); st != "done" {
		t.Fatalf("after upload: data-state=%q, want done; #error: %q", st, tb.text("#error"))
	}
	tb.checkOrigin()
	urls := tb.requests()
	// The record must be complete enough to mean something: it holds the
	// app's files, worker.wasm and the model among them, which only the
	// inference worker fetches.
	seen := make(map[string]bool)
	for _, u := range urls {
		if p, err := url.Parse(u); err == nil && p.Scheme+"://"+p.Host == tb.origin {
			seen[path.Base(p.Path)] = true
		}
	}
	for _, f := range []string{"app.wasm", "worker.wasm", "model.safetensors"} {
		if !seen[f] {
			t.Errorf("no request for %s seen; requests: %q", f, urls)
		}
	}
}

// TestDropMatchesNative drops a sample image served by the site onto
// #dropzone as a File in a DataTransfer.
func TestDropMatchesNative(t *testing.T) {
	t.Parallel() // independent tabs (see newTab)
	tb := newTab(t)
	tb.open(suite.srv.URL)

	name := siteSample(t)
	js := fmt.Sprintf(`(async () => {
		const res = await fetch(%q);
		if (!res.ok) throw new Error("fetch %s: " + res.status);
		const blob = await res.blob();
		const file = new File([blob], %q, {type: blob.type || "image/jpeg"});
		const dt = new DataTransfer();
		dt.items.add(file);
		const zone = document.querySelector("#dropzone");
		if (!zone) throw new Error("no #dropzone");
		for (const type of ["dragenter", "dragover", "drop"]) {
			zone.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: dt}));
		}
	})()`, "samples/"+name, name, name)
	if st := tb.classify(chromedp.Evaluate[chromedp.Void](js, chromedp.EvalAwaitPromise)); st != "done" {
		t.Fatalf("after drop: data-state=%q, want done; #error: %q", st, tb.text("#error"))
	}
	got := tb.result()
	checkResult(t, "drop "+name, got, nativeFor(t, filepath.Join(suite.site, "samples", name), got))
}

// TestBadFiles feeds files that are not images and checks that the page
// reports an error, then still classifies a good image.
func TestBadFiles(t *testing.T) {
	t.Parallel() // independent tabs (see newTab)
	needBrowser(t)
	good := filepath.Join(suite.samples, tench)
	jpg, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tests := []struct {
		name string
		data []byte
	}{
		{"truncated.jpg", jpg[:len(jpg)/3]},
		{"x.jpg", []byte("This is a text file, not a JPEG.\n")},
	}
	tb := newTab(t)
	tb.open(suite.srv.URL)
	for i, tt := range tests {
		// The native engine must reject the file too, or this case tests
		// nothing.
		if _, err := suite.eng.Classify(tt.data, 1); err == nil {
			t.Fatalf("%s: the native engine accepts it; pick a worse file", tt.name)
		}
		p := filepath.Join(dir, tt.name)
		if err := os.WriteFile(p, tt.data, 0o644); err != nil {
			t.Fatal(err)
		}
		if st := tb.classify(upload(p)); st != "error" {
			t.Errorf("%s: data-state=%q, want error", tt.name, st)
			continue
		}
		if msg := tb.text("#error"); msg == "" {
			t.Errorf("%s: data-state=error but #error is empty", tt.name)
		} else {
			t.Logf("%s: #error: %s", tt.name, msg)
		}
		if i == 0 {
			tb.screenshot("error")
		}
	}

	// The app keeps working.
	if st := tb.classify(upload(good)); st != "done" {
		t.Fatalf("good image after bad ones: data-state=%q, want done; #error: %q", st, tb.text("#error"))
	}
	got := tb.result()
	checkResult(t, "upload "+tench+" after errors", got, nativeFor(t, good, got))
}

// controlledJS is "yes" once a service worker controls the page.
const controlledJS = `navigator.serviceWorker?.controller ? "yes" : ""`

// waitControlled waits until the page's service worker controls it,
// reloading it if that has not happened within 20 s: a page is controlled
// on its first load only if its worker claims it; a reload always is.
func (tb *tab) waitControlled() {
	tb.t.Helper()
	if _, ok := tb.tryWaitFor(controlledJS, 20*time.Second); ok {
		return
	}
	if err := chromedp.Do(tb.ctx, chromedp.Reload()); err != nil {
		tb.t.Fatalf("reload: %v", err)
	}
	tb.waitReady()
	tb.waitFor(controlledJS)
}

// TestOffline loads the page until its service worker controls it, stops
// the server, reloads and classifies again.
func TestOffline(t *testing.T) {
	needBrowser(t)
	h, err := static.NewHandler(suite.site, static.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h) // an origin of its own, stopped below
	defer srv.Close()

	tb := newTab(t)
	tb.open(srv.URL)
	tb.waitControlled()
	cached, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](`(async () => {
		const urls = [];
		for (const k of await caches.keys()) {
			for (const r of await (await caches.open(k)).keys()) urls.push(r.url);
		}
		return urls;
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("list the caches: %v", err)
	}
	if len(cached) == 0 {
		t.Errorf("the service worker controls the page but cached nothing")
	}
	if foreign := foreignURLs(tb.origin, cached); len(foreign) > 0 {
		t.Errorf("cached responses from other origins: %q", foreign)
	}

	srv.Close()
	if resp, err := http.Get(srv.URL + "/"); err == nil {
		resp.Body.Close()
		t.Fatalf("the server still answers after Close: %s", resp.Status)
	}

	if err := chromedp.Do(tb.ctx, chromedp.Reload()); err != nil {
		t.Fatalf("reload offline: %v", err)
	}
	tb.waitReady()
	img := filepath.Join(suite.samples, tench)
	if st := tb.classify(upload(img)); st != "done" {
		t.Fatalf("offline: data-state=%q, want done; #error: %q", st, tb.text("#error"))
	}
	got := tb.result()
	checkResult(t, "offline upload "+tench, got, nativeFor(t, img, got))
}

// siteSample picks a sample image of the built site, other than the tench
// when there is one.
func siteSample(t *testing.T) string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(suite.site, "samples"))
	if err != nil {
		t.Fatalf("the built site has no samples: %v", err)
	}
	var names []string
	for _, e := range ents {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".jpg", ".jpeg", ".png", ".webp":
			if e.Type().IsRegular() {
				names = append(names, e.Name())
			}
		}
	}
	slices.Sort(names)
	for _, n := range names {
		if n != tench {
			return n
		}
	}
	if len(names) == 0 {
		t.Fatalf("no sample images in %s", filepath.Join(suite.site, "samples"))
	}
	return names[0]
}

// nativeFor classifies the file natively, with as many top classes as the
// page reported.
func nativeFor(t *testing.T, file string, got protocol.Result) protocol.Result {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return native(t, b, len(got.Top))
}

// checkResult compares the page's result with the native one: logits bit
// for bit, the same top classes with bit-identical logits, the same map.
func checkResult(t *testing.T, what string, got, want protocol.Result) {
	t.Helper()
	if d := bitDiff(got.Logits, want.Logits); d != "" {
		t.Errorf("%s: page logits differ from native: %s\n page: %v\n native: %v", what, d, got.Logits, want.Logits)
	}
	if got.Map != want.Map {
		t.Errorf("%s: map %+v, native %+v", what, got.Map, want.Map)
	}
	if got.Model != want.Model {
		t.Errorf("%s: model %q, native %q", what, got.Model, want.Model)
	}
	if len(got.Top) == 0 {
		t.Errorf("%s: no top classes", what)
	}
	for i := range min(len(got.Top), len(want.Top)) {
		g, w := got.Top[i], want.Top[i]
		if g.Index != w.Index || g.ID != w.ID || g.Name != w.Name ||
			math.Float32bits(g.Logit) != math.Float32bits(w.Logit) ||
			math.Abs(float64(g.Prob-w.Prob)) > 1e-6 {
			t.Errorf("%s: top[%d] = %+v, native %+v", what, i, g, w)
		}
	}
}

// jsonUnmarshal decodes a result; float32 fields are parsed at 32 bits.
func jsonUnmarshal(raw []byte, v any) error {
	if string(raw) == "null" || len(raw) == 0 {
		return fmt.Errorf("no value")
	}
	return json.Unmarshal(raw, v)
}

// TestEnginesMatchNative classifies the tench on random-weight BagNet-9 and
// BagNet-17 models (served by the site, loaded with ?model=) with WebAssembly
// SIMD and the pure-Go fallback, on 1 and 2 workers: every page result must
// equal the native engine's bit for bit. (BagNet-33 is the shipped model of
// TestUploadMatchesNative.)
func TestEnginesMatchNative(t *testing.T) {
	t.Parallel() // independent tabs (see newTab)
	if os.Getenv("BROWSERTEST_SITE") != "" {
		t.Skip("adds model files to the site: only with a site the tests build")
	}
	needBrowser(t)
	img := filepath.Join(suite.samples, tench)
	raw, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	for _, arch := range []string{"bagnet9", "bagnet17"} {
		b, err := testmodel.Int8(testmodel.Options{Arch: arch, InputSize: 128, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		file := "test-" + arch + ".safetensors"
		if err := os.WriteFile(filepath.Join(suite.site, file), b, 0o644); err != nil {
			t.Fatal(err)
		}
		eng, err := engine.Load(b)
		if err != nil {
			t.Fatal(err)
		}
		if bands := eng.Bands(2); len(bands) != 2 {
			t.Fatalf("%s: bands %v: want a map that splits in 2", arch, bands)
		}
		for _, mode := range []struct{ query, engine string }{
			{"&workers=1", "WebAssembly SIMD, 1 worker."},
			{"&workers=2", "WebAssembly SIMD, 2 workers."},
			{"&simd=0&workers=1", "without SIMD (SIMD turned off), 1 worker."},
			{"&simd=0&workers=2", "without SIMD (SIMD turned off), 2 workers."},
		} {
			t.Run(arch+mode.query, func(t *testing.T) {
				t.Parallel()
				tb := newTab(t)
				tb.openQuery(suite.srv.URL, "?model="+file+mode.query)
				if body := tb.text("body"); !strings.Contains(body, mode.engine) {
					t.Errorf("the page does not say %q", mode.engine)
				}
				if st := tb.classify(upload(img)); st != "done" {
					t.Fatalf("after upload: data-state=%q; #error: %q", st, tb.text("#error"))
				}
				got := tb.result()
				a, err := eng.Classify(raw, len(got.Top))
				if err != nil {
					t.Fatal(err)
				}
				checkResult(t, arch+mode.query, got, a.Result)
			})
		}
	}
}

// TestBandWorkerFailure makes the band worker fail after the warm-up
// (?failbands=1): the page must still give the native result, bit for bit
// (the band is recomputed), and then say it runs on one worker.
func TestBandWorkerFailure(t *testing.T) {
	t.Parallel() // independent tabs (see newTab)
	tb := newTab(t)
	tb.openQuery(suite.srv.URL, "?workers=2&failbands=1")
	if body := tb.text("body"); !strings.Contains(body, "WebAssembly SIMD, 2 workers.") {
		t.Fatalf("before the failure the page does not say it runs on 2 workers")
	}
	img := filepath.Join(suite.samples, tench)
	if st := tb.classify(upload(img)); st != "done" {
		t.Fatalf("after upload: data-state=%q; #error: %q", st, tb.text("#error"))
	}
	got := tb.result()
	checkResult(t, "with a failing band worker", got, nativeFor(t, img, got))
	if _, ok := tb.tryWaitFor(`document.body.textContent.includes("WebAssembly SIMD, 1 worker.") ? "yes" : ""`, 10*time.Second); !ok {
		_, rest, _ := strings.Cut(tb.text("body"), "Engine:")
		t.Errorf("after the failure the page does not say it runs on 1 worker: \"Engine:%.60s\"", rest)
	}
}
