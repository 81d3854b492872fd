package browsertest

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// cliPatches runs 'bagnet patches -json -class CLASS -o PNG NAME' in parent
// with the site's model: the reference of the page's figure. It returns
// the JSON and the PNG.
func cliPatches(t *testing.T, bin, model, parent, name, class string) (js, fig []byte) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "patches.png")
	js = runFolderCommand(t, parent, bin, "patches", "-json", "-class", class, "-o", out, "-weights", model, name)
	fig, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return js, fig
}

// patchesState is window.bagnetPatches (ui/patches.go).
type patchesState struct {
	Class   int    `json:"class"`
	Done    bool   `json:"done"`
	Tiles   int    `json:"tiles"`
	Hits    int    `json:"hits"`
	Pending int    `json:"pending"`
	Failed  int    `json:"failed"`
	Report  string `json:"report"`
}

// TestBatchPatches chooses a labelled folder (3 classes, a corrupt image,
// a skipped folder, a loose image), and checks the page's most evidential
// patches against 'bagnet patches -json' on the same folder, byte for
// byte, for two classes picked in the figure's select; "Export as PNG"
// against the command's PNG, byte for byte; then a click on a patch opens
// its image in the full analysis with that class shown and that patch
// outlined, several times.
func TestBatchPatches(t *testing.T) {
	t.Parallel() // independent tabs (see newTab)
	tb := newTab(t)
	parent, name := batchFolder(t, []string{"n01440764", "n02102040", "n02979186"}, 4)
	bin, model := cliWithModel(t)
	dl := t.TempDir()
	if _, err := chromedp.Call(tb.ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dl,
		BrowserContextID: chromedp.FromContext(tb.ctx).BrowserContextID}); err != nil {
		t.Fatal(err)
	}
	tb.open(suite.srv.URL)
	tb.chooseFolder(filepath.Join(parent, name))
	tb.waitFor(`window.bagnetBatch && !window.bagnetBatch.running ? "yes" : ""`)
	t.Logf("batch with patch candidates: %.2f images/s", windowValue[batchState](tb, "bagnetBatch").Rate)

	for _, cl := range []struct {
		index int
		id    string
	}{{0, "n01440764"}, {2, "n02979186"}} {
		wantJSON, wantPNG := cliPatches(t, bin, model, parent, name, cl.id)
		if !bytes.Contains(wantJSON, []byte(`"images":12,"errors":1,"labelled":true`)) {
			t.Fatalf("bagnet patches -json: %s, want 12 images, 1 error", wantJSON)
		}
		s := tb.showPatchClass(cl.index)
		if s.Report != string(wantJSON) {
			t.Errorf("class %s: the page's lists differ from bagnet patches -json:\npage %s\ncli  %s", cl.id, s.Report, wantJSON)
		}
		// One patch per image: 4 for, 8 distractors, 4 against (the
		// corrupt image has none).
		if s.Failed != 0 || s.Hits != 4+8+4 {
			t.Errorf("class %s: %d patches shown, %d images failed, want 16 and none", cl.id, s.Hits, s.Failed)
		}
		// Every patch of the three rows is shown with its file name.
		n, err := chromedp.Run(tb.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#patch-figure button.patch canvas").length`))
		if err != nil || n != s.Hits {
			t.Errorf("class %s: %d patch pictures drawn (%v), want %d", cl.id, n, err, s.Hits)
		}
		tb.click("#pf-export")
		got := waitFile(t, filepath.Join(dl, fmt.Sprintf("%s-patches-%s.png", name, cl.id)))
		if !bytes.Equal(got, wantPNG) {
			gi, err1 := png.Decode(bytes.NewReader(got))
			wi, err2 := png.Decode(bytes.NewReader(wantPNG))
			t.Errorf("class %s: the exported PNG (%d bytes) differs from bagnet patches -o (%d bytes); decoded %v %v, bounds %v vs %v",
				cl.id, len(got), len(wantPNG), err1, err2, bounds(gi), bounds(wi))
		}
	}

	// Open patches of the figure, one after the other.
	for _, sel := range []string{"#pf-for li:nth-child(1) button", "#pf-distractors li:nth-child(2) button", "#pf-against li:nth-child(1) button", "#pf-for li:nth-child(3) button"} {
		img := tb.attr(sel, "data-image")
		cell := tb.attr(sel, "data-cell")
		if img == "" || cell == "" {
			t.Fatalf("%s: no patch (image %q, cell %q)", sel, img, cell)
		}
		tb.click(sel)
		base := filepath.Base(img)
		tb.waitFor(fmt.Sprintf(`document.body.dataset.state === "done" && window.bagnetResult && window.bagnetResult.image === %q && document.querySelector(".viewer .cellbox") ? "yes" : ""`, base))
		if h := tb.text("#viewer-title"); !strings.Contains(h, "cassette player") {
			t.Errorf("%s: the viewer shows %q, want the figure's class", sel, h)
		}
		var i, j int
		fmt.Sscanf(cell, "%d,%d", &i, &j)
		if txt := tb.text(".hover-title"); !strings.Contains(txt, fmt.Sprintf("cell (%d,%d)", i, j)) {
			t.Errorf("%s (%s cell %s): the outlined patch is %q", sel, img, cell, txt)
		}
	}
	tb.screenshot("patches")
	tb.screenshotOf("#patch-figure", "doc-patches")
}

// showPatchClass picks class index in the figure's select and waits for
// its lists and all their pictures.
func (tb *tab) showPatchClass(index int) patchesState {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.SetValue(chromedp.CSS("#pf-class"), fmt.Sprint(index)),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#pf-class").dispatchEvent(new Event("change", {bubbles: true}))`)); err != nil {
		tb.t.Fatal(err)
	}
	tb.waitFor(fmt.Sprintf(`(p => p && p.done && p.class === %d && p.pending === 0 && p.tiles === p.hits ? "yes" : "")(window.bagnetPatches)`, index))
	return windowValue[patchesState](tb, "bagnetPatches")
}

// attr is the attribute name of the element sel ("" when absent).
func (tb *tab) attr(sel, name string) string {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q)?.getAttribute(%q) ?? ""`, sel, name)))
	if err != nil {
		tb.t.Fatalf("attribute %s of %s: %v", name, sel, err)
	}
	return v
}

func bounds(img interface{ Bounds() image.Rectangle }) image.Rectangle {
	if img == nil {
		return image.Rectangle{}
	}
	return img.Bounds()
}

// waitFile waits for a download to be complete at p.
func waitFile(t *testing.T, p string) []byte {
	t.Helper()
	deadline := time.Now().Add(stateTimeout)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(p); err == nil && len(b) > 0 {
			if _, err := png.Decode(bytes.NewReader(b)); err == nil {
				return b
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	ents, _ := os.ReadDir(filepath.Dir(p))
	t.Fatalf("no download %s (the folder holds %v)", p, ents)
	return nil
}

// taughtPatchesState is window.bagnetTaughtPatches (ui/taughtpatches.go).
type taughtPatchesState struct {
	Total     int      `json:"total"`
	Done      int      `json:"done"`
	Running   bool     `json:"running"`
	Cancelled bool     `json:"cancelled"`
	Errors    int      `json:"errors"`
	Ms        float64  `json:"ms"`
	WorkMs    float64  `json:"workMs"`
	Hits      int      `json:"hits"`
	Tiles     int      `json:"tiles"`
	Pending   int      `json:"pending"`
	Failed    int      `json:"failed"`
	Reports   []string `json:"reports"`
}

// TestTeachPatches teaches the page a folder of 3 classes; the teach panel
// then shows by itself what each class learned: the taught images go
// through the taught model, and each class's lists of most evidential
// patches equal 'bagnet patches -json' with the taught model file that
// 'bagnet teach' writes (byte for byte the page's) on the same folder,
// byte for byte. Each class's "for" patches are drawn in the teach panel
// (small crops, not the images), and a click on one opens its image in
// the full analysis with that class shown and that patch outlined.
func TestTeachPatches(t *testing.T) {
	t.Parallel() // independent tabs (see newTab)
	tb := newTab(t)
	// Class folders named by WordNet ids: 'bagnet patches' labels only such folders.
	ids := []string{"n01440764", "n02102040", "n02979186"}
	parent, name, _ := teachFolder(t, map[string]string{ids[0]: ids[0], ids[1]: ids[1], ids[2]: ids[2]}, 4)
	taught, _ := cliTeach(t, parent, name)
	taughtPath := filepath.Join(t.TempDir(), "taught.safetensors")
	if err := os.WriteFile(taughtPath, taught, 0o644); err != nil {
		t.Fatal(err)
	}
	bin, _ := cliWithModel(t)
	tb.open(suite.srv.URL)
	if err := chromedp.Do(tb.ctx, chromedp.SetUploadFiles(chromedp.CSS("#teach-folder"), []string{filepath.Join(parent, name)})); err != nil {
		t.Fatalf("choose the folder: %v", err)
	}
	if st := tb.waitFor(taughtJS); st != "yes" {
		t.Fatalf("teaching: %+v", windowValue[teachState](tb, "bagnetTaught"))
	}
	if l := windowValue[teachState](tb, "bagnetTaught").Learned; l != "done" {
		t.Fatalf("the taught images' pass: %q, want done", l)
	}
	// Every picture of the "for" lists has come.
	tb.waitFor(`(p => p && !p.running && p.pending === 0 && p.hits > 0 && p.tiles === p.hits ? "yes" : "")(window.bagnetTaughtPatches)`)
	s := windowValue[taughtPatchesState](tb, "bagnetTaughtPatches")
	if s.Total != 12 || s.Done != 12 || s.Errors != 0 || s.Failed != 0 || len(s.Reports) != 3 {
		t.Fatalf("window.bagnetTaughtPatches = %+v, want 12 images, 3 classes' lists", s)
	}
	t.Logf("what each class learned: 12 images through the taught model in %.2f s", s.Ms/1000)
	// One patch per image: each class's "for" list has its 4 images.
	if s.Hits != 3*4 {
		t.Errorf("%d patches in the for lists, want 12", s.Hits)
	}
	for k, id := range ids {
		want, _ := cliPatches(t, bin, taughtPath, parent, name, id)
		if !bytes.Contains(want, []byte(`"images":12,"errors":0,"labelled":true`)) {
			t.Fatalf("bagnet patches -json: %s, want 12 labelled images", want)
		}
		if s.Reports[k] != string(want) {
			t.Errorf("class %s: the page's lists with the taught model differ from bagnet patches -json:\npage %s\ncli  %s", id, s.Reports[k], want)
		}
		// The teach panel draws the class's for list: 96x96 crops.
		sel := fmt.Sprintf("#teach #tp-for-%d button.patch canvas", k)
		n, err := chromedp.Run(tb.ctx, chromedp.Evaluate[int](fmt.Sprintf(`[...document.querySelectorAll(%q)].filter(c => c.width === 96 && c.height === 96).length`, sel)))
		if err != nil || n != 4 {
			t.Errorf("class %s: %d patch pictures of 96x96 drawn in the teach panel (%v), want 4", id, n, err)
		}
	}
	// The batch card is not touched.
	if v, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](`window.bagnetBatch === undefined && !document.querySelector("#patch-figure")`)); !v {
		t.Errorf("teaching ran a folder batch or showed the batch's figure")
	}

	// Open patches of the panel, one after the other.
	for _, sel := range []string{"#tp-for-1 li:nth-child(1) button", "#tp-for-2 li:nth-child(2) button", "#tp-for-0 li:nth-child(4) button"} {
		img := tb.attr(sel, "data-image")
		cell := tb.attr(sel, "data-cell")
		if img == "" || cell == "" {
			t.Fatalf("%s: no patch (image %q, cell %q)", sel, img, cell)
		}
		k := sel[len("#tp-for-")] - '0'
		tb.click(sel)
		tb.waitFor(fmt.Sprintf(`document.body.dataset.state === "done" && window.bagnetResult && window.bagnetResult.image === %q && document.querySelector(".viewer .cellbox") ? "yes" : ""`, filepath.Base(img)))
		if h, want := tb.text("#viewer-title"), ids[k]; !strings.Contains(h, want) {
			t.Errorf("%s: the viewer shows %q, want the class %s", sel, h, want)
		}
		var i, j int
		fmt.Sscanf(cell, "%d,%d", &i, &j)
		if txt := tb.text(".hover-title"); !strings.Contains(txt, fmt.Sprintf("cell (%d,%d)", i, j)) {
			t.Errorf("%s (%s cell %s): the outlined patch is %q", sel, img, cell, txt)
		}
	}
	tb.screenshot("teach-patches")
	tb.screenshotOf("#taught-patches", "doc-teach-patches")

	// Teaching again, the pass cancelled as soon as its first images are
	// done: it stops with the lists of those, and the page is idle.
	tb.js(`window.bagnetTaught = null; new MutationObserver((_, o) => {
		const b = document.querySelector("#tp-cancel"), n = document.querySelector("#tp-count");
		if (b && n && !n.textContent.startsWith("0 ")) { o.disconnect(); b.click(); }
	}).observe(document.body, {childList: true, subtree: true, characterData: true})`)
	if err := chromedp.Do(tb.ctx, chromedp.SetUploadFiles(chromedp.CSS("#teach-folder"), []string{filepath.Join(parent, name)})); err != nil {
		t.Fatalf("choose the folder: %v", err)
	}
	if st := tb.waitFor(taughtJS); st != "yes" {
		t.Fatalf("teaching again: %+v", windowValue[teachState](tb, "bagnetTaught"))
	}
	c := windowValue[taughtPatchesState](tb, "bagnetTaughtPatches")
	if l := windowValue[teachState](tb, "bagnetTaught").Learned; l != "cancelled" || !c.Cancelled || c.Running || c.Done == 0 || c.Done >= c.Total || len(c.Reports) != 3 {
		t.Fatalf("cancelled pass: learned %q, %+v; want it cancelled after some of the 12 images, before all", l, c)
	}
	if !strings.Contains(c.Reports[0], fmt.Sprintf(`"images":%d,"errors":0`, c.Done)) {
		t.Errorf("after cancelling at %d images, the lists %s, want them over those", c.Done, c.Reports[0])
	}
	if txt := tb.text("#tp-status"); !strings.Contains(txt, fmt.Sprintf("Cancelled after %d of 12", c.Done)) {
		t.Errorf("#tp-status = %q", txt)
	}
	tb.waitFor(`document.body.dataset.state === "ready" || document.body.dataset.state === "done" ? "yes" : ""`)
	t.Logf("the pass cancelled after %d of %d images", c.Done, c.Total)
}
