package browsertest

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/domdebugger"
	"github.com/chromedp/cdproto/heapprofiler"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/bagnetweb/bagnet/geom"
	"github.com/bagnetweb/bagnet/model"
)

// soakJS times, in the page, each pointer release and each data-state
// "done" (performance.now(), ms), so that an occlusion's latency is
// measured without the test's polling interval.
const soakJS = `(() => {
	if (window.__soak) return;
	const s = window.__soak = {up: 0, done: 0};
	document.addEventListener("pointerup", () => { s.up = performance.now(); }, true);
	new MutationObserver(() => {
		if (document.body.dataset.state === "done") s.done = performance.now();
	}).observe(document.body, {attributes: true, attributeFilter: ["data-state"]});
})()`

// A session as a user has it: several samples, class clicks, panels opened,
// eight occlusion clicks, a drag, hovering and the scramble experiment. The
// page must not slow down or grow as it goes: the pictures' pointer
// listeners stay as many as after the first result, the eighth occlusion
// is no slower than twice the first, a 10-step drag completes within 3 s,
// the JS heap stays bounded, and the panels the user opened stay open
// through every render.
func TestSoak(t *testing.T) {
	tb := newTab(t)
	tb.open(suite.srv.URL)
	if _, err := chromedp.Run(tb.ctx, chromedp.Evaluate[chromedp.Void](soakJS)); err != nil {
		t.Fatal(err)
	}
	size := suite.eng.InputSize

	// The panels the user opens stay open.
	tb.click("#storage summary")
	tb.click(".class-list summary")
	panels := func(when string) {
		t.Helper()
		open, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](
			`["#storage", ".class-list"].map(s => document.querySelector(s)?.open ? "open" : "closed").join(" ")`))
		if err != nil {
			t.Fatal(err)
		}
		if open != "open open" {
			t.Errorf("%s: the storage and class-list panels are %q, want both open", when, open)
		}
	}
	tb.waitFor(`document.querySelector("#storage-refresh")?.disabled === false ? "ok" : ""`)
	tb.click("#storage-refresh") // its own button re-renders the panel
	tb.waitFor(`document.querySelector("#storage-refresh")?.disabled === false ? "ok" : ""`)
	panels("after Check again")

	// Samples and class clicks.
	tb.pickSample("tench")
	base := map[string]int{}
	for _, sel := range []string{"#heatmap", "#occlusion-map"} {
		base[sel] = tb.pointerListeners(sel)
		if base[sel] == 0 {
			t.Fatalf("%s has no pointer listeners after the first result", sel)
		}
	}
	listeners := func(when string) {
		t.Helper()
		var got []string
		for _, sel := range []string{"#heatmap", "#occlusion-map"} {
			n := tb.pointerListeners(sel)
			got = append(got, fmt.Sprintf("%s %d", sel, n))
			if n != base[sel] {
				t.Errorf("%s: %s has %d pointer listeners, %d after the first result", when, sel, n, base[sel])
			}
		}
		t.Logf("pointer listeners %s: %s", when, strings.Join(got, ", "))
	}
	listeners("after the first result")
	for _, s := range []string{"golf ball", "church"} {
		tb.pickSample(s)
	}
	for k := 1; k < 4; k++ {
		tb.click(fmt.Sprintf("#top li:nth-child(%d) .pred-btn", k+1))
	}
	tb.waitFor(`document.querySelector("#heatmap canvas")?.bagnetKey?.endsWith("true") ? "ok" : ""`)
	listeners("after three samples and three class clicks")
	panels("after three samples")
	heap0 := tb.heap()

	// Eight occlusion clicks, at different places.
	var occ []float64
	for k := range 8 {
		x, y := float64(20+12*k), float64(24+9*k)
		ms := tb.soakOcclude(size, x, y, x, y, 20*time.Second)
		occ = append(occ, ms)
	}
	// The machine is shared and noisy: the last three clicks against the
	// first three (medians), not one against one. A page that adds
	// listeners each render doubles its time click after click.
	first, last8 := median(occ[:3]), median(occ[5:])
	t.Logf("occlusion clicks, pointer up to done (ms): %.0f; median of the first three %.0f, of the last three %.0f (x%.2f)",
		occ, first, last8, last8/first)
	if last8 > 2*first && last8 > 2*50 { // 50 ms: below it the timing is noise
		t.Errorf("the last occlusions took %.0f ms (median of 3), the first %.0f ms: over twice as long", last8, first)
	}
	listeners("after 8 occlusion clicks")

	// A 10-step drag.
	drag := tb.soakDrag(size, 10, 10, 90, 70, 10, 30*time.Second)
	t.Logf("10-step drag, pointer down to done: %v", drag.Round(time.Millisecond))
	if drag > 3*time.Second {
		t.Errorf("the 10-step drag took %v, want at most 3 s", drag.Round(time.Millisecond))
	}
	listeners("after the drag")

	// Hovering over the main picture.
	box := tb.still("#heatmap")
	h, w := suite.eng.Config.MapSize(size, size)
	patch := suite.eng.Config.Patch()
	var last [2]int
	for k := range 20 {
		i, j := (k*5)%h, (k*7)%w
		cell := geom.Cell(i, j, model.Stride, patch)
		x, y := float64(cell.X0+cell.X1)/2, float64(cell.Y0+cell.Y1)/2
		if err := chromedp.Do(tb.ctx, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved,
			box[0]+x/float64(size)*box[2], box[1]+y/float64(size)*box[3])); err != nil {
			t.Fatal(err)
		}
		last = [2]int{i, j}
	}
	want := fmt.Sprintf("cell (%d,%d)", last[0], last[1])
	if _, ok := tb.tryWaitFor(fmt.Sprintf(`document.querySelector(".hover-title")?.textContent.includes(%q) ? "ok" : ""`, want), 10*time.Second); !ok {
		t.Errorf("after hovering, the page says %q, want it to name %s", tb.text(".hover-title"), want)
	}

	// The scramble experiment.
	if st := tb.classify(chromedp.Evaluate[chromedp.Void](`document.querySelector("#scramble").click()`)); st != "done" {
		t.Fatalf("scramble: data-state=%q; #error: %q", st, tb.text("#error"))
	}
	listeners("at the end")
	panels("at the end")
	heap1 := tb.heap()
	t.Logf("JS heap after warm-up %.1f MB, at the end %.1f MB (x%.2f)", heap0/1e6, heap1/1e6, heap1/heap0)
	if heap1 > 1.5*heap0 {
		t.Errorf("the JS heap grew from %.1f MB to %.1f MB over the session", heap0/1e6, heap1/1e6)
	}
}

// pickSample clicks the gallery sample named name and waits for its result.
func (tb *tab) pickSample(name string) {
	tb.t.Helper()
	if _, err := chromedp.Run(tb.ctx, chromedp.Evaluate[chromedp.Void](armJS)); err != nil {
		tb.t.Fatal(err)
	}
	tb.click(fmt.Sprintf(`.gallery .sample[title=%q]`, name))
	if st := tb.waitFor(settledJS); st != "done" {
		tb.t.Fatalf("sample %s: data-state=%q; #error: %q", name, st, tb.text("#error"))
	}
}

// pointerListeners counts the pointer* event listeners on the element sel
// selects (DOMDebugger.getEventListeners).
func (tb *tab) pointerListeners(sel string) int {
	tb.t.Helper()
	res, err := chromedp.Call(tb.ctx, runtime.Evaluate, runtime.EvaluateParams{Expression: fmt.Sprintf("document.querySelector(%q)", sel)})
	if err != nil || res.Result == nil || res.Result.ObjectID == "" {
		tb.t.Fatalf("find %s: %v", sel, err)
	}
	defer chromedp.Call(tb.ctx, runtime.ReleaseObject, runtime.ReleaseObjectParams{ObjectID: res.Result.ObjectID})
	ls, err := chromedp.Call(tb.ctx, domdebugger.GetEventListeners, domdebugger.GetEventListenersParams{ObjectID: res.Result.ObjectID})
	if err != nil {
		tb.t.Fatalf("listeners of %s: %v", sel, err)
	}
	n := 0
	for _, l := range ls.Listeners {
		if strings.HasPrefix(l.Type, "pointer") {
			n++
		}
	}
	return n
}

// heap collects garbage and returns the JS heap's used size in bytes.
func (tb *tab) heap() float64 {
	tb.t.Helper()
	if _, err := chromedp.Call(tb.ctx, heapprofiler.CollectGarbage, cdp.Empty{}); err != nil {
		tb.t.Fatal(err)
	}
	h, err := chromedp.Call(tb.ctx, runtime.GetHeapUsage, cdp.Empty{})
	if err != nil {
		tb.t.Fatal(err)
	}
	return h.UsedSize
}

// soakOcclude is tb.occlude with a bound on the wait; it returns the
// page's own time from the pointer's release to data-state done, in ms.
func (tb *tab) soakOcclude(size int, x0, y0, x1, y1 float64, limit time.Duration) float64 {
	tb.t.Helper()
	px := tb.occlusionMap(size)
	ax, ay := px(x0, y0)
	bx, by := px(x1, y1)
	ctx, cancel := context.WithTimeout(tb.ctx, limit)
	defer cancel()
	err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](armJS),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, ax, ay),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, ax, ay, chromedp.ButtonLeft, chromedp.ClickCount(1)),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, bx, by, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	if err != nil {
		tb.t.Fatalf("occlusion click at (%v, %v) not handled within %v: %v", x0, y0, limit, err)
	}
	st, ok := tb.tryWaitFor(settledJS, limit)
	if !ok || st != "done" {
		tb.t.Fatalf("occlusion click at (%v, %v): data-state %q within %v; #error: %q", x0, y0, st, limit, tb.text("#error"))
	}
	ms, err := chromedp.Run(tb.ctx, chromedp.Evaluate[float64](`window.__soak.done - window.__soak.up`))
	if err != nil {
		tb.t.Fatal(err)
	}
	return ms
}

// soakDrag drags over #occlusion-map from (x0, y0) to (x1, y1) in steps
// moves and returns the time from pressing to the edit's result.
func (tb *tab) soakDrag(size int, x0, y0, x1, y1 float64, steps int, limit time.Duration) time.Duration {
	tb.t.Helper()
	px := tb.occlusionMap(size)
	ctx, cancel := context.WithTimeout(tb.ctx, limit)
	defer cancel()
	ax, ay := px(x0, y0)
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](armJS),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, ax, ay)); err != nil {
		tb.t.Fatal(err)
	}
	t0 := time.Now()
	acts := []chromedp.Action[chromedp.Void]{
		chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, ax, ay, chromedp.ButtonLeft, chromedp.ClickCount(1)),
	}
	for s := 1; s <= steps; s++ {
		f := float64(s) / float64(steps)
		x, y := px(x0+f*(x1-x0), y0+f*(y1-y0))
		acts = append(acts, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x, y, chromedp.ButtonLeft))
	}
	bx, by := px(x1, y1)
	acts = append(acts, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, bx, by, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	if err := chromedp.Do(ctx, acts...); err != nil {
		tb.t.Fatalf("a %d-step drag not handled within %v (%v)", steps, limit, err)
	}
	st, ok := tb.tryWaitFor(settledJS, limit-time.Since(t0))
	if !ok || st != "done" {
		tb.t.Fatalf("drag: data-state %q after %v; #error: %q", st, time.Since(t0).Round(time.Millisecond), tb.text("#error"))
	}
	return time.Since(t0)
}

// Keyboard focus: with the file input focused only "Choose a file" shows a
// focus ring (not "Use the camera" beside it); Enter on a gallery sample
// classifies it and leaves the focus on that sample, not on <body>.
func TestFocus(t *testing.T) {
	tb := newTab(t)
	tb.open(suite.srv.URL)
	// Tab from the drop zone to the file input, as a keyboard user does.
	if err := chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector("#dropzone").focus()`),
		chromedp.KeyEvent("\t")); err != nil {
		t.Fatal(err)
	}
	tb.waitFor(`document.activeElement?.id === "file" ? "ok" : ""`)
	rings, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(".drop-actions .button"),
		e => e.textContent.trim() + ": " + getComputedStyle(e).outlineStyle)`))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rings {
		name, style, _ := strings.Cut(r, ": ")
		if want := map[bool]string{true: "solid", false: "none"}[name == "Choose a file"]; style != want {
			t.Errorf("with the file input focused, %q has outline %q, want %q (all: %q)", name, style, want, rings)
		}
	}

	sel := `.gallery .sample[title="tench"]`
	if err := chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](armJS),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).focus()`, sel)),
		chromedp.KeyEvent("\r")); err != nil {
		t.Fatal(err)
	}
	if st := tb.waitFor(settledJS); st != "done" {
		t.Fatalf("Enter on a sample: data-state=%q; #error: %q", st, tb.text("#error"))
	}
	if r := tb.result(); r.Image != tench {
		t.Errorf("a sample's result names the image %q, want its file name %q", r.Image, tench)
	}
	focus, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](fmt.Sprintf(
		`document.activeElement === document.querySelector(%q) ? "sample" : document.activeElement?.outerHTML.slice(0, 80) ?? "none"`, sel)))
	if err != nil {
		t.Fatal(err)
	}
	if focus != "sample" {
		t.Errorf("after Enter on a sample the focus is on %s, want the sample", focus)
	}
}

// Out-of-set honesty: the gallery marks the samples whose WordNet id is
// none of the model's classes; for them, and for a 1x1-pixel image, the
// prediction says that no class fits, and not for a sample of a class; a
// search for "cat" says which classes this model knows.
func TestOutOfSet(t *testing.T) {
	tb := newTab(t)
	tb.open(suite.srv.URL)
	classes := suite.eng.Classes
	known := map[string]bool{}
	for _, k := range classes {
		known[k.ID] = true
	}
	// The gallery comes from samples/index.json, fetched after the page is
	// ready: wait for it (CI once read it empty).
	tb.waitFor(`document.querySelectorAll(".gallery .sample").length > 0 ? "yes" : ""`)
	marks, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(".gallery .sample"),
		e => e.getAttribute("title") + "|" + (e.dataset.oos ?? "") + "|" + (e.querySelector(".oos")?.textContent ?? ""))`))
	if err != nil || len(marks) == 0 {
		t.Fatalf("gallery: %q %v", marks, err)
	}
	var outside []string
	for _, m := range marks {
		f := strings.Split(m, "|")
		// The samples' file names start with their WordNet id (mksite).
		ents, _ := filepath.Glob(filepath.Join(suite.site, "samples", "n*_"+strings.ReplaceAll(f[0], " ", "_")+".*"))
		if len(ents) == 0 {
			continue
		}
		wnid, _, _ := strings.Cut(filepath.Base(ents[0]), "_")
		want := !known[wnid]
		if got := f[1] == "true" && f[2] == "not a class of this model"; got != want {
			t.Errorf("sample %q (%s): marked %v, want %v (%q)", f[0], wnid, got, want, m)
		}
		if want {
			outside = append(outside, f[0])
		}
	}
	t.Logf("samples marked as not a class of this model: %q", outside)
	if len(outside) == 0 && len(classes) == 10 {
		t.Errorf("no sample marked: the gallery has a tabby, a soccer ball and an orange")
	}

	noFit := func(what string, want bool) {
		t.Helper()
		got := tb.text("#no-fit")
		if (got != "") != want {
			t.Errorf("%s: #no-fit %q, want shown=%v (top: %q)", what, got, want, tb.text("#top .pred .name"))
		}
		t.Logf("%s: top %s; #no-fit %q", what, tb.text("#top .pred"), got)
	}
	for _, s := range outside {
		tb.pickSample(s)
		noFit(s, true)
	}
	tb.pickSample("tench")
	noFit("tench", false)
	one := filepath.Join(t.TempDir(), "one-pixel.png")
	if err := os.WriteFile(one, onePixelPNG(), 0o644); err != nil {
		t.Fatal(err)
	}
	if st := tb.classify(upload(one)); st != "done" {
		t.Fatalf("1x1 PNG: data-state=%q; #error: %q", st, tb.text("#error"))
	}
	noFit("a 1x1 PNG", true)

	// "cat": no class matches; the page says which ones it knows.
	if err := chromedp.Do(tb.ctx, chromedp.SendKeys(chromedp.CSS("#class-search"), "cat")); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("this model knows only these %d classes: %s", len(classes), classes[0].Name)
	if _, ok := tb.tryWaitFor(fmt.Sprintf(`document.querySelector("#class-summary")?.textContent.includes(%q) ? "ok" : ""`, want), 10*time.Second); !ok {
		t.Errorf("search %q: #class-summary %q, want it to say %q", "cat", tb.text("#class-summary"), want)
	}
}

// onePixelPNG is a 1x1 red PNG (the shipped model says "parachute" to it
// with a probability over 99.9%).
func onePixelPNG() []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 1, 1))
	img.Set(0, 0, color.NRGBA{255, 0, 0, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// median of a few values.
func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	} else {
		return (s[n/2-1] + s[n/2]) / 2
	}
}
