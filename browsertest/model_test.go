package browsertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/bagnetweb/bagnet/engine"
	"github.com/bagnetweb/bagnet/heatmap"
	"github.com/bagnetweb/bagnet/internal/testmodel"
	"github.com/bagnetweb/bagnet/model/kernel/tensorkernel"
	"github.com/bagnetweb/bagnet/protocol"
	"github.com/bagnetweb/bagnet/server/static"
	"github.com/bagnetweb/bagnet/weights"
)

// loadModel sets input#model-file to path and waits until the page is
// ready again (or failed): it returns "ready" or "error".
func (tb *tab) loadModel(sel, path string) string {
	tb.t.Helper()
	err := chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](armJS),
		chromedp.SetUploadFiles(chromedp.CSS(sel), []string{path}))
	if err != nil {
		tb.t.Fatalf("load a model: %v", err)
	}
	return tb.waitFor(reloadedJS)
}

// reloadedJS gives the state the page settled in after armJS and a model
// load: "ready" or "error" once it has been "working", else "".
const reloadedJS = `(() => {
	const s = window.__bt?.states ?? [];
	const last = s[s.length - 1];
	return s.includes("working") && (last === "ready" || last === "error") ? last : "";
})()`

// A model file given to the page (the "Load a model" button, or the image
// input) replaces the model in use: the page classifies with it exactly as
// the native engine does. A truncated or foreign file gets the loader's
// error and the model in use stays.
func TestLoadModelFile(t *testing.T) {
	t.Parallel() // independent tabs (see newTab)
	needBrowser(t)
	dir := t.TempDir()
	img := filepath.Join(suite.samples, tench)
	raw, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	int8File, err := testmodel.Int8(testmodel.Options{Arch: "bagnet17", InputSize: 96, Seed: 11, Classes: 12})
	if err != nil {
		t.Fatal(err)
	}
	_, meta, sd, err := testmodel.Float(testmodel.Options{Arch: "bagnet9", InputSize: 80, Seed: 12})
	if err != nil {
		t.Fatal(err)
	}
	const floatName = "random bagnet9 float32 (test)"
	meta.Name = floatName
	floatFile, err := weights.EncodeStateDict(meta, sd)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}

	tb := newTab(t)
	tb.open(suite.srv.URL)
	for _, tt := range []struct {
		name, sel string
		file      []byte
		exact     bool
	}{
		{"mine-int8.safetensors", "#model-file", int8File, true},
		{"mine-float.safetensors", "#file", floatFile, false}, // the image input takes models too
	} {
		p := write(tt.name, tt.file)
		if st := tb.loadModel(tt.sel, p); st != "ready" {
			t.Fatalf("%s: data-state=%q, want ready; #error: %q", tt.name, st, tb.text("#error"))
		}
		if src := tb.text("#model-source"); src != tt.name {
			t.Errorf("%s: the model card says the file is %q", tt.name, src)
		}
		eng, err := engine.Load(tt.file)
		if err != nil {
			t.Fatal(err)
		}
		if card := tb.text("#model-card"); !strings.Contains(card, eng.Label()) {
			t.Errorf("%s: the model card does not name %q: %.200s", tt.name, eng.Label(), card)
		}
		if st := tb.classify(upload(img)); st != "done" {
			t.Fatalf("%s: classify: data-state=%q; #error: %q", tt.name, st, tb.text("#error"))
		}
		got := tb.result()
		a, err := eng.Classify(raw, len(got.Top))
		if err != nil {
			t.Fatal(err)
		}
		if tt.exact {
			checkResult(t, tt.name, got, a.Result) // int8: bit for bit
		} else if len(got.Logits) != len(a.Logits) {
			t.Fatalf("%s: %d logits, want %d", tt.name, len(got.Logits), len(a.Logits))
		} else {
			for i := range got.Logits {
				if d := got.Logits[i] - a.Logits[i]; d > 1e-3 || d < -1e-3 {
					t.Errorf("%s: logit %d = %v, native float %v", tt.name, i, got.Logits[i], a.Logits[i])
				}
			}
		}
	}

	// Bad model files: a named error; the float model stays in use.
	before := tb.result()
	for _, bad := range []struct{ name, want string }{
		{"truncated.safetensors", "truncated.safetensors"},
		{"notes.safetensors", "notes.safetensors"},
	} {
		data := int8File[:len(int8File)*2/3]
		if bad.name == "notes.safetensors" {
			data = []byte("These are notes, not a model file.\n")
		}
		if _, err := engine.Load(data); err == nil {
			t.Fatalf("%s: the native loader accepts it", bad.name)
		}
		if st := tb.loadModel("#model-file", write(bad.name, data)); st != "error" {
			t.Fatalf("%s: data-state=%q, want error", bad.name, st)
		}
		msg := tb.text("#error")
		if !strings.Contains(msg, bad.want) || !strings.Contains(msg, "not a usable model file") {
			t.Errorf("%s: #error %q", bad.name, msg)
		}
		if inUse := "The previous model (" + floatName + ") is still in use."; !strings.HasSuffix(msg, inUse) {
			t.Errorf("%s: #error %q does not end %q", bad.name, msg, inUse)
		}
		t.Logf("%s: #error: %s", bad.name, msg)
	}
	if src := tb.text("#model-source"); src != "mine-float.safetensors" {
		t.Errorf("after bad files the model card says %q", src)
	}
	if st := tb.classify(upload(img)); st != "done" {
		t.Fatalf("classify after bad model files: data-state=%q; #error: %q", st, tb.text("#error"))
	}
	checkResult(t, "the float model after bad files", tb.result(), before)
}

// After boot, window.eval is the browser's own (no override for the page's
// lifetime), and the Content-Security-Policy still forbids it.
func TestNoEvalOverride(t *testing.T) {
	t.Parallel() // independent tabs (see newTab)
	tb := newTab(t)
	tb.open(suite.srv.URL)
	got, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`(() => {
		const src = Function.prototype.toString.call(window.eval);
		if (!/\{\s*\[native code\]\s*\}/.test(src) || window.eval.name !== "eval") return "window.eval is replaced: " + src.slice(0, 80);
		try { window.eval("1"); return "eval ran"; } catch (e) { return e.name; }
	})()`, func(p *runtime.EvaluateParams) { p.AllowUnsafeEvalBlockedByCSP = new(false) })) // as page scripts run
	if err != nil {
		t.Fatal(err)
	}
	if got != "EvalError" {
		t.Errorf("%s (want EvalError from the CSP)", got)
	}
	if !strings.Contains(tb.text("#model-card"), "BagNet") {
		t.Errorf("the UI did not render: %q", tb.text("#model-card"))
	}
}

// imagenetClasses reads the 1000 ImageNet classes of ../shared.
func imagenetClasses(t *testing.T) []weights.Class {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(suite.root, "..", "shared", "data", "imagenet_classes.tsv"))
	if err != nil {
		t.Skipf("the ImageNet class list: %v", err)
	}
	var cs []weights.Class
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			t.Fatalf("imagenet_classes.tsv: %q", line)
		}
		cs = append(cs, weights.Class{ID: f[1], Name: f[2]})
	}
	if len(cs) != 1000 {
		t.Fatalf("%d ImageNet classes", len(cs))
	}
	return cs
}

// A full-size (width 1, 224 px) BagNet-33 with the 1000 ImageNet classes
// (random weights, quantised like `bagnet convert` does): the page loads
// it, classifies bit for bit like the native engine, names the top 5, and
// the class search finds a class by part of its name and by WordNet id and
// shows its evidence.
func TestThousandClasses(t *testing.T) {
	t.Parallel() // independent tabs (see newTab)
	needBrowser(t)
	classes := imagenetClasses(t)
	t0 := time.Now()
	b, err := testmodel.Int8(testmodel.Options{Arch: "bagnet33", Width: 1, InputSize: 224, Resize: "crop",
		ClassList: classes, Calib: 1, Seed: 21, Kernels: tensorkernel.Kernels{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("made a full-size 1000-class model (%.1f MB) in %v", float64(len(b))/1e6, time.Since(t0).Round(time.Millisecond))
	p := filepath.Join(t.TempDir(), "bagnet33-imagenet-random.safetensors")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	eng, err := engine.Load(b)
	if err != nil {
		t.Fatal(err)
	}

	tb := newTab(t)
	tb.openQuery(suite.srv.URL, "?workers=2")
	t1 := time.Now()
	if st := tb.loadModel("#model-file", p); st != "ready" {
		t.Fatalf("data-state=%q, want ready; #error: %q", st, tb.text("#error"))
	}
	t.Logf("loading it in the page (read, validate, warm up): %v", time.Since(t1).Round(time.Millisecond))
	img := filepath.Join(suite.samples, tench)
	raw, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	t2 := time.Now()
	if st := tb.classify(upload(img)); st != "done" {
		t.Fatalf("classify: data-state=%q; #error: %q", st, tb.text("#error"))
	}
	t.Logf("classifying %s: %v", tench, time.Since(t2).Round(time.Millisecond))
	got := tb.result()
	a, err := eng.Classify(raw, len(got.Top))
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, "1000 classes", got, a.Result)
	names, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll("#top .pred .name"), e => e.textContent.trim())`))
	if err != nil || len(names) != 5 {
		t.Fatalf("top names %q: %v", names, err)
	}
	for i, n := range names {
		if n != a.Top[i].Name {
			t.Errorf("top %d is %q, want %q", i+1, n, a.Top[i].Name)
		}
	}

	// An occlusion recomputes a 9x9 block of the 24x24 map, shared with
	// the band worker: exact, and fast.
	d := tb.occlude(224, 112, 112, 112, 112)
	o := tb.occlusion()
	t.Logf("occluding a 33x33 square: %d of %d cells recomputed on %d workers, pointer up to done %v", o.Recomputed, o.Cells, o.Workers, d.Round(time.Millisecond))
	if o.Workers != 2 {
		t.Errorf("the full-size occlusion was recomputed on %d workers, want 2", o.Workers)
	}
	edited := slices.Clone(a.Input)
	grey := engine.Grey()
	for y := o.Rect[1]; y < o.Rect[3]; y++ {
		for x := o.Rect[0]; x < o.Rect[2]; x++ {
			copy(edited[(y*224+x)*3:], grey[:])
		}
	}
	full, err := eng.ClassifyRGB(edited, a.Transform, 5)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, "full-size occlusion", tb.result(), full.Result)

	// Search by part of a name, then by WordNet id; pick; its evidence shows.
	shark, err := eng.ClassIndex("great white shark")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"white sha", classes[shark].ID} {
		if err := chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](`(() => {
			const e = document.querySelector("#class-search");
			e.value = "";
			e.dispatchEvent(new Event("input", {bubbles: true}));
		})()`), chromedp.SendKeys(chromedp.CSS("#class-search"), q)); err != nil {
			t.Fatal(err)
		}
		sel := fmt.Sprintf(`#class-matches button[data-class="%d"]`, shark)
		tb.waitFor(fmt.Sprintf(`document.querySelector(%q) ? "found" : ""`, sel))
		tb.click(sel)
		// The overlay's picture key names the class and whether its map
		// had arrived (ui/draw.go): the map of a class outside the top 5
		// comes from the worker on request.
		tb.waitFor(fmt.Sprintf(`(() => {
			const c = document.querySelector("#heatmap canvas");
			return c && /^ov \d+ %d .* true$/.test(c.bagnetKey ?? "") ? "shown" : "";
		})()`, shark))
		if h := tb.text("#viewer-title"); !strings.Contains(h, "great white shark") {
			t.Errorf("search %q: the viewer shows %q", q, h)
		}
	}
}

// The export buttons save the result as the JSON `bagnet classify -json`
// prints (bit for bit) and the heatmap as a PNG with its legend.
func TestExport(t *testing.T) {
	t.Parallel() // independent tabs (see newTab)
	tb := newTab(t)
	tb.open(suite.srv.URL)
	dir := t.TempDir()
	_, err := chromedp.Call(tb.ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir,
		BrowserContextID: chromedp.FromContext(tb.ctx).BrowserContextID})
	if err != nil {
		t.Fatal(err)
	}
	raw := tb.classifyTench()
	wait := func(name string) []byte {
		t.Helper()
		p := filepath.Join(dir, name)
		deadline := time.Now().Add(stateTimeout)
		for time.Now().Before(deadline) {
			if b, err := os.ReadFile(p); err == nil && len(b) > 0 {
				return b
			}
			time.Sleep(100 * time.Millisecond)
		}
		ents, _ := os.ReadDir(dir)
		t.Fatalf("no download %s (the folder holds %v; #status: %q)", name, ents, tb.text("#status"))
		return nil
	}

	tb.click("#export-json")
	saved := wait("n01440764_tench-result.json")
	var got protocol.Result
	if err := jsonUnmarshal(saved, &got); err != nil {
		t.Fatal(err)
	}
	want := native(t, raw, len(got.Top))
	if got.Image != tench {
		t.Errorf("image %q, want %q", got.Image, tench)
	}
	got.Image = ""
	checkResult(t, "exported JSON", got, want)
	// Byte for byte the line `bagnet classify -json n01440764_tench.jpg`
	// prints (cmd/bagnet: the native result with "image" set to the path).
	want.Image = tench
	cli, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bytes.TrimSpace(saved), cli) {
		t.Errorf("the saved JSON differs from the CLI's:\n page: %s\n  CLI: %s", saved, cli)
	}
	// window.bagnetResult is the same object.
	if r := tb.result(); r.Image != tench {
		t.Errorf("window.bagnetResult.image = %q, want %q", r.Image, tench)
	}

	tb.click("#export-png")
	pic, err := png.Decode(bytes.NewReader(wait("n01440764_tench-evidence-tench.png")))
	if err != nil {
		t.Fatal(err)
	}
	side := suite.eng.InputSize * 4 // the overlay's scale for a 128-pixel input (ui/viz.OverlayScale)
	if b := pic.Bounds(); b.Dx() != side || b.Dy() != side+heatmap.LegendHeight {
		t.Errorf("the PNG is %v, want %dx%d (overlay and legend)", b, side, side+heatmap.LegendHeight)
	}
	if n := distinctColors(pic, 50); n < 50 {
		t.Errorf("the PNG has %d colours", n)
	}
}

// still brings the element sel selects into view and waits until the page
// stops moving (a new result scrolls itself into view smoothly, and a
// pointer event aimed while it scrolls lands elsewhere); it returns the
// element's box: left, top, width, height.
func (tb *tab) still(sel string) []float64 {
	tb.t.Helper()
	var box []float64
	for k := 0; k < 50; k++ {
		b, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]float64](fmt.Sprintf(`(() => {
			const c = document.querySelector(%q);
			if (!c) return [];
			c.scrollIntoView({block: "center", behavior: "instant"});
			const r = c.getBoundingClientRect();
			return [r.left, r.top, r.width, r.height];
		})()`, sel)))
		if err != nil || len(b) != 4 {
			tb.t.Fatalf("%s: box %v, %v", sel, b, err)
		}
		if slices.Equal(b, box) {
			break
		}
		box = b
		time.Sleep(150 * time.Millisecond)
	}
	return box
}

// click presses the mouse on the middle of the element sel selects, once
// the page is still.
func (tb *tab) click(sel string) {
	tb.t.Helper()
	b := tb.still(sel)
	if err := chromedp.Do(tb.ctx, chromedp.MouseClickXY(b[0]+b[2]/2, b[1]+b[3]/2)); err != nil {
		tb.t.Fatalf("click %s: %v", sel, err)
	}
}

// occlusionMap returns where model-input point (x, y) of a size x size
// input stands on the page, over #occlusion-map (once it is still).
func (tb *tab) occlusionMap(size int) func(x, y float64) (float64, float64) {
	tb.t.Helper()
	box := tb.still("#occlusion-map")
	return func(x, y float64) (float64, float64) {
		return box[0] + x/float64(size)*box[2], box[1] + y/float64(size)*box[3]
	}
}

// reducedMotion makes the tab prefer reduced motion, so that the page
// scrolls to a new result at once instead of smoothly. A gesture must not
// race that scroll: on a loaded machine the smooth scroll to the result,
// started when the page said "done", could still be under way (or only
// start) after the test had measured #occlusion-map and scrolled it into
// view, so the map moved away under the pointer, before the press (no
// reaction at all: TestOcclusion/2_workers, once in three CI-like runs) or
// during the drag (a rectangle cut short). Nothing was busy.
func (tb *tab) reducedMotion() {
	tb.t.Helper()
	if _, err := chromedp.Call(tb.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-reduced-motion", Value: "reduce"}},
	}); err != nil {
		tb.t.Fatalf("emulate prefers-reduced-motion: %v", err)
	}
}

// occlude drags over #occlusion-map from model-input point (x0, y0) to
// (x1, y1) (a click when they are equal) and waits for the edit's result;
// it returns the time from releasing the pointer to the page being done.
func (tb *tab) occlude(size int, x0, y0, x1, y1 float64) time.Duration {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](armJS)); err != nil {
		tb.t.Fatal(err)
	}
	t0 := tb.drag(size, x0, y0, x1, y1)
	if st := tb.waitFor(settledJS); st != "done" {
		tb.t.Fatalf("occlusion: data-state=%q; #error: %q", st, tb.text("#error"))
	}
	return time.Since(t0)
}

// drag presses the pointer on #occlusion-map at model-input point (x0, y0),
// moves it to (x1, y1) and releases it there; it returns when it released.
func (tb *tab) drag(size int, x0, y0, x1, y1 float64) time.Time {
	tb.t.Helper()
	px := tb.occlusionMap(size)
	ax, ay := px(x0, y0)
	bx, by := px(x1, y1)
	if err := chromedp.Do(tb.ctx,
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, ax, ay),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, ax, ay, chromedp.ButtonLeft, chromedp.ClickCount(1)),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, (ax+bx)/2, (ay+by)/2, chromedp.ButtonLeft),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, bx, by, chromedp.ButtonLeft),
	); err != nil {
		tb.t.Fatal(err)
	}
	t0 := time.Now()
	if err := chromedp.Do(tb.ctx, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, bx, by, chromedp.ButtonLeft, chromedp.ClickCount(1))); err != nil {
		tb.t.Fatal(err)
	}
	return t0
}

// occlusion reads the last edit's record (protocol.Occlusion).
func (tb *tab) occlusion() protocol.Occlusion {
	tb.t.Helper()
	raw, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]byte](`window.bagnetOcclusion`))
	if err != nil {
		tb.t.Fatal(err)
	}
	var o protocol.Occlusion
	if err := jsonUnmarshal(raw, &o); err != nil {
		tb.t.Fatalf("window.bagnetOcclusion %s: %v", raw, err)
	}
	return o
}

// Occlusion in the page, with and without a band worker (the full-size
// model of TestThousandClasses shares its blocks with it): each edit's
// logits equal a full native pass over the edited image bit for bit; only
// the cells that see an edit are recomputed and the page finds every other
// cell's evidence unchanged; undo and reset go back.
func TestOcclusion(t *testing.T) {
	t.Parallel() // independent tabs (see newTab)
	for _, workers := range []int{1, 2} {
		t.Run(fmt.Sprintf("%d workers", workers), func(t *testing.T) { t.Parallel(); testOcclusion(t, workers) })
	}
}

func testOcclusion(t *testing.T, workers int) {
	tb := newTab(t)
	tb.reducedMotion()
	tb.openQuery(suite.srv.URL, fmt.Sprintf("?workers=%d", workers))
	raw := tb.classifyTench()
	a, err := suite.eng.Classify(raw, 5)
	if err != nil {
		t.Fatal(err)
	}
	n := suite.eng.InputSize
	rgb := slices.Clone(a.Input)
	for k, drag := range [][4]float64{{20, 30, 70, 80}, {100, 100, 100, 100}} { // a drag, then a click
		d := tb.occlude(n, drag[0], drag[1], drag[2], drag[3])
		o := tb.occlusion()
		want := [4]int{int(drag[0]), int(drag[1]), int(drag[2]), int(drag[3])}
		if drag[0] == drag[2] {
			want = [4]int{84, 84, 117, 117} // a click: the patch-sized square centred on it
		}
		if d := max(abs(o.Rect[0]-want[0]), abs(o.Rect[1]-want[1]), abs(o.Rect[2]-want[2]), abs(o.Rect[3]-want[3])); d > 1 {
			t.Errorf("edit %d painted %v, want %v (the pointer's path)", k+1, o.Rect, want)
		}
		got := tb.result()
		r, grey := o.Rect, engine.Grey()
		for y := r[1]; y < r[3]; y++ {
			for x := r[0]; x < r[2]; x++ {
				copy(rgb[(y*n+x)*3:], grey[:])
			}
		}
		full, err := suite.eng.ClassifyRGB(rgb, a.Transform, len(got.Top))
		if err != nil {
			t.Fatal(err)
		}
		checkResult(t, fmt.Sprintf("edit %d %v", k+1, r), got, full.Result)
		if o.Recomputed <= 0 || o.Recomputed >= o.Cells {
			t.Errorf("edit %d: %d of %d cells recomputed", k+1, o.Recomputed, o.Cells)
		}
		if o.Workers != 1 { // the shipped model's blocks are too little work to share (engine.DefaultMinShareMACs)
			t.Errorf("edit %d: recomputed on %d workers, want 1", k+1, o.Workers)
		}
		info := tb.text("#occ-info")
		var eq, tot int
		if i := strings.Index(info, "unchanged"); i < 0 {
			t.Errorf("edit %d: #occ-info %q has no check of the other cells", k+1, info)
		} else if _, err := fmt.Sscanf(info[strings.LastIndex(info[:i], ": ")+2:], "%d of %d", &eq, &tot); err != nil || eq != tot || tot != o.Cells-o.Recomputed {
			t.Errorf("edit %d: %q: %d of %d unchanged, want all %d", k+1, info, eq, tot, o.Cells-o.Recomputed)
		}
		t.Logf("edit %d %v: %d of %d cells recomputed on %d workers; pointer up to done %v", k+1, r, o.Recomputed, o.Cells, o.Workers, d.Round(time.Millisecond))
	}
	tb.click("#occ-undo")
	tb.waitFor(`document.querySelector("#occ-info")?.textContent.startsWith("Edit 1:") ? "ok" : ""`)
	tb.click("#occ-reset")
	tb.waitFor(`document.querySelector("#occ-info")?.textContent.startsWith("No edits") ? "ok" : ""`)
	// The scores shown are the original's again.
	cells, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll(".occ-table tbody tr"), r => r.cells[1].textContent + "|" + r.cells[2].textContent)`))
	if err != nil || len(cells) == 0 {
		t.Fatalf("occlusion table: %v %v", cells, err)
	}
	for _, c := range cells {
		before, after, _ := strings.Cut(c, "|")
		if before != after {
			t.Errorf("after reset the table says %q -> %q", before, after)
		}
	}
}

// Occlusions painted while the page is busy (an earlier edit waits behind
// a worker kept busy by the test hook) are held, not dropped: the latest
// replaces an earlier one, the status line says so, and once the first
// edit's answer came the latest is recomputed on top of it, exactly as the
// native engine paints and classifies it.
func TestOcclusionWhileBusy(t *testing.T) {
	t.Parallel()
	tb := newTab(t)
	tb.reducedMotion()
	tb.openQuery(suite.srv.URL, "?testhooks=1")
	raw := tb.classifyTench()
	a, err := suite.eng.Classify(raw, 5)
	if err != nil {
		t.Fatal(err)
	}
	n := suite.eng.InputSize
	deadline, _ := tb.deadlines()
	busy := min(20*time.Second, deadline*3/4) // within the first edit's deadline
	tb.post(fmt.Sprintf(`{type: "hang", ms: %d}`, busy.Milliseconds()))
	if err := chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](armJS)); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	first, held, last := [4]int{10, 10, 40, 40}, [4]int{100, 100, 100, 100}, [4]int{60, 70, 110, 120}
	for k, d := range [][4]int{first, held, last} {
		tb.drag(n, float64(d[0]), float64(d[1]), float64(d[2]), float64(d[3]))
		if k == 0 {
			continue
		}
		if st := tb.text("#status"); !strings.Contains(st, "when the current work is done") || (k == 2) != strings.Contains(st, "replaces") {
			t.Errorf("gesture %d after %v: #status %q; want it to say the rectangle waits (and, for the second one held, that it replaces the first)", k+1, time.Since(t0), st)
		}
	}
	gestures := time.Since(t0)
	tb.waitFor(`document.body.dataset.state === "done" && document.querySelector("#occ-info")?.textContent.startsWith("Edit 2:") ? "yes" : ""`)
	if st := windowValue[[]string](tb, "__bt.states"); len(st) == 0 || st[len(st)-1] != "done" || slices.Contains(st, "error") {
		t.Errorf("page states %v", st)
	}
	o := tb.occlusion()
	if d := max(abs(o.Rect[0]-last[0]), abs(o.Rect[1]-last[1]), abs(o.Rect[2]-last[2]), abs(o.Rect[3]-last[3])); d > 1 {
		t.Errorf("the held edit painted %v, want the latest gesture's %v", o.Rect, last)
	}
	rgb, grey := slices.Clone(a.Input), engine.Grey()
	for _, r := range [][4]int{first, o.Rect} {
		for y := r[1]; y < r[3]; y++ {
			for x := r[0]; x < r[2]; x++ {
				copy(rgb[(y*n+x)*3:], grey[:])
			}
		}
	}
	got := tb.result()
	full, err := suite.eng.ClassifyRGB(rgb, a.Transform, len(got.Top))
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, fmt.Sprintf("edits %v then %v", first, o.Rect), got, full.Result)
	t.Logf("worker busy for %v (request deadline %v), the three gestures took %v: the second was held, the third replaced it and was applied after the first", busy, deadline, gestures)
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// A site with two models: the picker downloads the second only when it is
// picked and classifies with it like the native engine; the storage panel
// lists what is stored for offline use (the second model once picked), and
// clearing it deletes the caches and the service worker.
func TestSiteModels(t *testing.T) {
	needBrowser(t)
	eng := extraEngine(t, "only with a site the tests build")
	h, err := static.NewHandler(suite.site, static.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h) // an origin of its own: its storage starts empty
	defer srv.Close()
	tb := newTab(t)
	tb.open(srv.URL)
	tb.waitFor(controlledJS)
	for _, u := range tb.requests() {
		if strings.Contains(u, "/models/") {
			t.Errorf("the second model was downloaded before it was picked: %s", u)
		}
	}
	tb.click("#storage summary") // open the panel
	stored := func(file string) string {
		return fmt.Sprintf(`document.querySelector('#storage-list li[data-file=%q]')?.dataset.stored ?? ""`, file)
	}
	if got := tb.waitFor(stored("model.safetensors")); got != "true" {
		// The panel looked before the service worker finished: look again.
		chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector("#storage-refresh").click()`))
	}
	tb.waitFor(fmt.Sprintf(`%s === "true" ? "ok" : ""`, stored("model.safetensors")))
	if got := tb.waitFor(stored("models/" + extraModel)); got != "false" {
		t.Errorf("the second model is stored before it was picked")
	}

	// Pick the second model.
	err = chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](armJS), chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const s = document.querySelector("#model-pick");
		s.value = %q;
		s.dispatchEvent(new Event("change", {bubbles: true}));
	})()`, "models/"+extraModel)))
	if err != nil {
		t.Fatal(err)
	}
	if st := tb.waitFor(reloadedJS); st != "ready" {
		t.Fatalf("picking the second model: data-state=%q; #error: %q", st, tb.text("#error"))
	}
	if src := tb.text("#model-source"); src != "models/"+extraModel {
		t.Errorf("the model card says the file is %q", src)
	}
	raw := tb.classifyTench()
	got := tb.result()
	a, err := eng.Classify(raw, len(got.Top))
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, "the second model", got, a.Result)
	// Now it is stored too (the service worker keeps it as it downloads).
	for k := 0; k < 50; k++ {
		if v, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[string](stored("models/"+extraModel))); v == "true" {
			break
		}
		chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector("#storage-refresh").click()`))
		time.Sleep(200 * time.Millisecond)
	}
	if v := tb.waitFor(stored("models/" + extraModel)); v != "true" {
		t.Errorf("the picked model is not stored for offline use")
	}
	tb.screenshot("storage")

	// Clear (once the panel is not busy looking).
	tb.waitFor(`document.querySelector("#storage-clear")?.disabled === false ? "ok" : ""`)
	if err := chromedp.Do(tb.ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector("#storage-clear").click()`)); err != nil {
		t.Fatal(err)
	}
	if _, ok := tb.tryWaitFor(`document.querySelector("#storage-note")?.textContent.startsWith("Cleared") ? "ok" : ""`, 20*time.Second); !ok {
		dis, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](`document.querySelector("#storage-clear").disabled`))
		t.Fatalf("after Clear (button disabled: %v): #storage-note %q, #storage %q", dis, tb.text("#storage-note"), tb.text("#storage"))
	}
	// The figures agree with what is left, the note says what went, and
	// the panel stays open through its own button's renders.
	if note := tb.text("#storage-note"); !strings.HasPrefix(note, "Cleared 1 cache (") {
		t.Errorf("after clearing: #storage-note %q", note)
	}
	tb.waitFor(`document.querySelector("#storage-usage")?.textContent === "Nothing is stored for offline use." ? "ok" : ""`)
	if open, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](`document.querySelector("#storage").open`)); !open {
		t.Errorf("the storage panel closed after its own buttons")
	}
	left, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`(async () => {
		const keys = (await caches.keys()).filter(k => k.startsWith("bagnet-"));
		const regs = await navigator.serviceWorker.getRegistrations();
		return keys.length + " caches, " + regs.length + " service workers";
	})()`, chromedp.EvalAwaitPromise))
	if err != nil || left != "0 caches, 0 service workers" {
		t.Errorf("after clearing: %s %v", left, err)
	}
	tb.waitFor(fmt.Sprintf(`%s === "false" ? "ok" : ""`, stored("model.safetensors")))
}

// The scramble experiment: the scrambled input's logits equal the native
// engine's on the same tiles in the same order, and the comparison shows.
func TestScramble(t *testing.T) {
	t.Parallel() // independent tabs (see newTab)
	tb := newTab(t)
	tb.open(suite.srv.URL)
	raw := tb.classifyTench()
	if st := tb.classify(chromedp.Evaluate[chromedp.Void](`document.querySelector("#scramble").click()`)); st != "done" {
		t.Fatalf("scramble: data-state=%q; #error: %q", st, tb.text("#error"))
	}
	sraw, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]byte](`window.bagnetScramble`))
	if err != nil {
		t.Fatal(err)
	}
	var sc protocol.Scramble
	if err := jsonUnmarshal(sraw, &sc); err != nil || sc.N < 2 || len(sc.Perm) != sc.N*sc.N {
		t.Fatalf("window.bagnetScramble %s: %v", sraw, err)
	}
	a, err := suite.eng.Classify(raw, 5)
	if err != nil {
		t.Fatal(err)
	}
	rgb, err := sc.Tiling.Apply(a.Input, sc.Perm)
	if err != nil {
		t.Fatal(err)
	}
	want, err := suite.eng.ClassifyRGB(rgb, a.Transform, 5)
	if err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]byte](`window.bagnetScrambled`))
	if err != nil {
		t.Fatal(err)
	}
	var r protocol.Result
	if err := jsonUnmarshal(got, &r); err != nil {
		t.Fatal(err)
	}
	checkResult(t, "scrambled", r, want.Result)
	if v := tb.text(".compare .verdict"); !strings.HasPrefix(v, "Still ") && !strings.HasPrefix(v, "Now ") {
		t.Errorf("verdict %q", v)
	}
}

// classifyTench classifies the tench sample (uploaded) and returns its bytes.
func (tb *tab) classifyTench() []byte {
	tb.t.Helper()
	img := filepath.Join(suite.samples, tench)
	raw, err := os.ReadFile(img)
	if err != nil {
		tb.t.Fatal(err)
	}
	if st := tb.classify(upload(img)); st != "done" {
		tb.t.Fatalf("classify %s: data-state=%q; #error: %q", tench, st, tb.text("#error"))
	}
	return raw
}
