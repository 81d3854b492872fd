package browsertest

import (
	"fmt"
	"github.com/bagnetweb/bagnet/internal/testfixture"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bagnetweb/bagnet/engine"
	"github.com/bagnetweb/bagnet/internal/testmodel"
)

// The watchdog over the inference worker (ui/watchdog.go). The test hooks
// (?testhooks=1) make the worker hang or crash on a message the test sends.

// post sends a message straight to the inference worker, past the page.
func (tb *tab) post(msgJS string) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](`bagnetBoot.worker.postMessage(`+msgJS+`)`)); err != nil {
		tb.t.Fatalf("post %s: %v", msgJS, err)
	}
}

// deadlines reads window.bagnetDeadlines: the page's deadline for a
// request and the worker's for its band workers.
func (tb *tab) deadlines() (request, helper time.Duration) {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[map[string]float64](`window.bagnetDeadlines`))
	if err != nil || v["requestMs"] <= 0 {
		tb.t.Fatalf("window.bagnetDeadlines = %v (%v)", v, err)
	}
	return time.Duration(v["requestMs"]) * time.Millisecond, time.Duration(v["helperMs"]) * time.Millisecond
}

func (tb *tab) restarts() int {
	tb.t.Helper()
	n, err := chromedp.Run(tb.ctx, chromedp.Evaluate[int](`window.bagnetRestarts ?? 0`))
	if err != nil {
		tb.t.Fatal(err)
	}
	return n
}

// A worker that hangs: the page says so within the request's deadline,
// restarts the worker with the model in use, and then classifies exactly
// as the native engine does, again and again.
func TestWorkerHang(t *testing.T) {
	tb := newTab(t)
	tb.openQuery(suite.srv.URL, "?testhooks=1")
	deadline, _ := tb.deadlines()
	tb.post(`{type: "hang"}`)
	img := filepath.Join(suite.samples, tench)
	t0 := time.Now()
	if err := chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](armJS), upload(img)); err != nil {
		t.Fatal(err)
	}
	v, ok := tb.tryWaitFor(`document.querySelector("#error")?.textContent.includes("stopped responding") ? "yes" : ""`, deadline+30*time.Second)
	if !ok {
		t.Fatalf("no report of the hang within %v (deadline %v): %s; #error %q", deadline+30*time.Second, deadline, v, tb.text("#error"))
	}
	reported := time.Since(t0)
	if st := tb.waitFor(settledJS); st != "error" {
		t.Fatalf("after the restart: data-state=%q, want error (the request failed)", st)
	}
	recovered := time.Since(t0)
	msg := tb.text("#error")
	t.Logf("deadline %v; hang reported after %v, worker restarted and ready after %v: %q", deadline, reported, recovered, msg)
	if reported < deadline-time.Second || reported > deadline+5*time.Second {
		t.Errorf("the hang was reported after %v, want about the deadline %v", reported, deadline)
	}
	for _, want := range []string{tench, "restarted", "try again"} {
		if !strings.Contains(msg, want) {
			t.Errorf("#error %q does not say %q", msg, want)
		}
	}
	if n := tb.restarts(); n != 1 {
		t.Errorf("%d restarts, want 1", n)
	}
	for k := range 3 { // a session after the restart
		if st := tb.classify(upload(img)); st != "done" {
			t.Fatalf("classify %d after the restart: data-state=%q; #error %q", k, st, tb.text("#error"))
		}
		got := tb.result()
		checkResult(t, "after a hang and a restart", got, nativeFor(t, img, got))
	}
}

// A worker that crashes (Go exits) is restarted with the model in use,
// here the user's own model file, and classifies with it exactly.
func TestWorkerCrash(t *testing.T) {
	needBrowser(t)
	file, err := testmodel.Int8(testmodel.Options{Arch: "bagnet17", InputSize: 96, Seed: 21, Classes: 7})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "mine.safetensors")
	if err := os.WriteFile(p, file, 0o644); err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(suite.samples, tench)
	raw, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	tb := newTab(t)
	tb.openQuery(suite.srv.URL, "?testhooks=1")
	if st := tb.loadModel("#model-file", p); st != "ready" {
		t.Fatalf("load mine.safetensors: data-state=%q; #error %q", st, tb.text("#error"))
	}
	for crash := 1; crash <= 2; crash++ { // a crash, a session, another crash
		if err := chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](armJS)); err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		tb.post(`{type: "crash"}`)
		if _, ok := tb.tryWaitFor(`window.bagnetRestarts === `+strconv.Itoa(crash)+` && ["ready", "done"].includes(document.body.dataset.state) ? "yes" : ""`, stateTimeout); !ok {
			t.Fatalf("crash %d: no restart (restarts %d, data-state via #status %q, #error %q)", crash, tb.restarts(), tb.text("#status"), tb.text("#error"))
		}
		t.Logf("crash %d: the worker was restarted with the user's model and ready after %v (%s)", crash, time.Since(t0), tb.text("#status"))
		if src := tb.text("#model-source"); src != "mine.safetensors" {
			t.Errorf("crash %d: after the restart the model card says the file is %q", crash, src)
		}
		for k := range 2 {
			if st := tb.classify(upload(img)); st != "done" {
				t.Fatalf("crash %d, classify %d: data-state=%q; #error %q", crash, k, st, tb.text("#error"))
			}
			got := tb.result()
			a, err := eng.Classify(raw, len(got.Top))
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, "the user's model after a crash", got, a.Result)
		}
	}
}

// Band workers that all hang cost a request one deadline, not one each:
// the inference worker gives them up together, recomputes their bands and
// answers exactly as the native engine does.
func TestBandWorkersHang(t *testing.T) {
	needBrowser(t)
	eng := extraEngine(t, "only with a site the tests build (its bagnet9 model splits into 3 bands)")
	const workers = 4 // 3 band workers, all of which hang
	if n := len(eng.Bands(workers)); n != workers {
		t.Fatalf("the test model splits into %d bands, want %d", n, workers)
	}
	img := filepath.Join(suite.samples, tench)
	raw, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	tb := newTab(t)
	// The band workers answer the warm-up pass, then hang.
	tb.openQuery(suite.srv.URL, "?model=models/"+extraModel+"&workers=4&testhooks=1&hangbands=1")
	if body := tb.text("body"); !strings.Contains(body, "4 workers.") {
		t.Fatalf("the page does not run on 3 workers: %.200s", body[strings.Index(body, "Engine:")+1:])
	}
	request, helper := tb.deadlines()
	t0 := time.Now()
	if st := tb.classify(upload(img)); st != "done" {
		t.Fatalf("with 3 hung band workers: data-state=%q; #error %q", st, tb.text("#error"))
	}
	took := time.Since(t0)
	// The network's time as the worker measured it (the timings line):
	// the wait for the band workers is in it.
	m := regexp.MustCompile(`network ([0-9.]+) (ms|s)`).FindStringSubmatch(tb.text(".timings"))
	if m == nil {
		t.Fatalf("no network time in %q", tb.text(".timings"))
	}
	network, _ := strconv.ParseFloat(m[1], 64)
	unit := time.Millisecond
	if m[2] == "s" {
		unit = time.Second
	}
	net := time.Duration(network * float64(unit))
	t.Logf("3 hung band workers: the network took %v in the worker, the page's classification %v (band workers' deadline %v, the page's %v)", net, took, helper, request)
	if net < helper/2 { // the deadline runs from the request's start, before decoding
		t.Errorf("the network took %v: the band workers did not hang (deadline %v)", net, helper)
	}
	if net > 2*helper {
		t.Errorf("3 hung band workers cost %v: more than one deadline (%v), as if waited one after another", net, helper)
	}
	if took > request {
		t.Errorf("the page waited %v, past its own deadline %v", took, request)
	}
	got := tb.result()
	a, err := eng.Classify(raw, len(got.Top))
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, "with 3 hung band workers", got, a.Result)
	if _, ok := tb.tryWaitFor(`document.body.textContent.includes(", 1 worker.") ? "yes" : ""`, 10*time.Second); !ok {
		t.Errorf("the page does not say it now runs on 1 worker")
	}
	if st := tb.classify(upload(img)); st != "done" { // no band workers left: no wait
		t.Fatalf("again: data-state=%q", st)
	}
	checkResult(t, "after dropping the hung band workers", tb.result(), a.Result)
	if n := tb.restarts(); n != 0 {
		t.Errorf("the inference worker was restarted %d times: hung band workers must not cost it", n)
	}
}

// A new image chosen while others wait supersedes them: the one queued
// behind the image in flight is never sent, the answer for the image in
// flight is not shown, and the page shows the newest image's result.
func TestNewImageSupersedes(t *testing.T) {
	tb := newTab(t)
	tb.openQuery(suite.srv.URL, "?testhooks=1")
	others := siteSamples(t)
	if len(others) < 2 {
		t.Skip("needs three sample images")
	}
	// Record what the page sends the worker.
	if err := chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](`(() => {
		const w = bagnetBoot.worker;
		window.__sent = [];
		w.postMessage = function (m, tr) { window.__sent.push(m.type); return Worker.prototype.postMessage.call(this, m, tr); };
	})()`)); err != nil {
		t.Fatal(err)
	}
	tb.post(`{type: "hang", ms: 2500}`) // the worker is busy for 2.5 s
	if err := chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](armJS)); err != nil {
		t.Fatal(err)
	}
	files := []string{
		filepath.Join(suite.samples, tench),             // sent, then superseded
		filepath.Join(suite.site, "samples", others[0]), // queued, then dropped unsent
		filepath.Join(suite.site, "samples", others[1]), // the one shown
	}
	for _, f := range files {
		if err := chromedp.Do(tb.ctx, upload(f)); err != nil {
			t.Fatal(err)
		}
		// Read and handed to the page's queue before the next.
		tb.waitFor(fmt.Sprintf(`document.querySelector("#status")?.textContent.includes(%q) ? "ok" : ""`, "Classifying "+filepath.Base(f)))
	}
	if st := tb.waitFor(settledJS); st != "done" {
		t.Fatalf("data-state=%q; #error %q", st, tb.text("#error"))
	}
	got := tb.result()
	checkResult(t, "the newest image", got, nativeFor(t, files[2], got))
	sent, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](`window.__sent`))
	if err != nil {
		t.Fatal(err)
	}
	if classify := count(sent, "classify"); classify != 2 {
		t.Errorf("the page sent %d classify requests (%q), want 2: the first and the newest, the middle one dropped unsent", classify, sent)
	}
	states, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](`window.__bt.states`))
	if err != nil {
		t.Fatal(err)
	}
	if count(states, "done") != 1 {
		t.Errorf("data-state went through %q: the superseded image's answer was shown", states)
	}
}

// siteSamples lists the site's sample images other than the tench.
// count is how many of ss are s.
func count(ss []string, s string) int {
	n := 0
	for _, x := range ss {
		if x == s {
			n++
		}
	}
	return n
}

// extraEngine is the native engine of the site's second model
// (suite.extra); without a site the tests build, it skips the test with
// the message skip.
func extraEngine(t *testing.T, skip string) *engine.Engine {
	t.Helper()
	if suite.extra == "" {
		t.Skip(skip)
	}
	return testfixture.Must(engine.LoadFile(suite.extra))(t)
}

func siteSamples(t *testing.T) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(suite.site, "samples"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".jpg", ".jpeg", ".png":
			if e.Type().IsRegular() && e.Name() != tench {
				out = append(out, e.Name())
			}
		}
	}
	return out
}
