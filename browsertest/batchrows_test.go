package browsertest

import (
	"fmt"
	"image"
	_ "image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/bagnetweb/bagnet/preprocess"
)

// thumbSide is ui.ThumbSide: the thumbnails' longest side.
const thumbSide = 48

// TestBatchRows classifies a folder and checks its results table: every
// image that decodes has a thumbnail the worker made, the decoded image
// scaled to at most 48 pixels (its exact size computed from the file), and
// the page holds nothing bigger: each thumbnail is under the raw pixels of
// a 48x48 image, so the batch's thumbnails are bounded by 9 kB an image
// whatever the photos' size. Then it opens rows one after another: each
// gives the main view the result the native engine gives for that file, bit
// for bit, and the result takes the focus.
func TestBatchRows(t *testing.T) {
	t.Parallel() // independent tabs (see newTab)
	tb := newTab(t)
	parent, name := batchFolder(t, []string{"n01440764", "n02102040", "n02979186"}, 4)
	tb.open(suite.srv.URL)
	tb.chooseFolder(filepath.Join(parent, name))
	tb.waitFor(`window.bagnetBatch && !window.bagnetBatch.running ? "yes" : ""`)
	s := windowValue[batchState](tb, "bagnetBatch")
	const raw = thumbSide * thumbSide * 4
	if s.Total != 15 || s.Errors != 1 || s.Thumbs != 14 {
		t.Fatalf("window.bagnetBatch = %+v, want 15 images, 1 error, 14 thumbnails", s)
	}
	if s.ThumbMax > raw || s.ThumbSum > s.Thumbs*raw {
		t.Errorf("thumbnails: largest %d bytes, %d in all; want each under %d (raw 48x48 RGBA)", s.ThumbMax, s.ThumbSum, raw)
	}
	t.Logf("%d thumbnails, %d bytes in all (largest %d); %.2f images/s", s.Thumbs, s.ThumbSum, s.ThumbMax, s.Rate)

	rows := tb.thumbRows(15)
	var open []thumbRow
	thumbs := map[string]string{}
	for _, r := range rows {
		thumbs[r.Path] = r.Src
		if r.Verdict == "error" {
			if r.Src != "" {
				t.Errorf("%s (error): has a thumbnail", r.Path)
			}
			continue
		}
		f, err := os.Open(filepath.Join(parent, filepath.FromSlash(r.Path)))
		if err != nil {
			t.Fatal(err)
		}
		cfg, _, err := image.DecodeConfig(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		w, h := preprocess.ThumbSize(cfg.Width, cfg.Height, thumbSide)
		if !strings.HasPrefix(r.Src, "data:image/jpeg;base64,") || r.W != w || r.H != h {
			t.Errorf("%s (%dx%d): thumbnail %dx%d %.23q, want a %dx%d JPEG", r.Path, cfg.Width, cfg.Height, r.W, r.H, r.Src, w, h)
		}
		if len(open) < 3 && (len(open) == 0 || open[len(open)-1].Path != r.Path) {
			open = append(open, r)
		}
	}

	// Sorted otherwise, each row still shows its own image's thumbnail
	// (and the error row none).
	if err := chromedp.Do(tb.ctx, chromedp.SetValue(chromedp.CSS("#batch-sort"), "prob"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector("#batch-sort").dispatchEvent(new Event("change", {bubbles: true}))`)); err != nil {
		t.Fatal(err)
	}
	tb.waitFor(`document.querySelector("#batch-table tbody tr:last-child").dataset.verdict === "error" ? "yes" : ""`)
	for i, r := range tb.thumbRows(15) {
		if r.Src != thumbs[r.Path] {
			t.Errorf("sorted by probability, row %d (%s) shows thumbnail %.60q, want %.60q", i+1, r.Path, r.Src, thumbs[r.Path])
		}
	}

	// Open rows in turn (not the first only): each result is the file's.
	for i, r := range open {
		sel := fmt.Sprintf(`#batch-table tbody tr[data-verdict] .file button[title="Open %s in the full analysis"]`, r.Path)
		n, err := chromedp.Run(tb.ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
		if err != nil || n != 1 {
			t.Fatalf("row %d: %d buttons %s (%v)", i+1, n, sel, err)
		}
		if st, ok := tb.tryWaitFor(armJS+`, "x"`, time.Minute); !ok {
			t.Fatal(st)
		}
		// From the keyboard: a mouse click's coordinates go stale while the
		// page still scrolls (smoothly) to the previous result.
		if err := chromedp.Do(tb.ctx, chromedp.Focus(chromedp.CSS(sel)), chromedp.KeyEvent(kb.Enter)); err != nil {
			t.Fatal(err)
		}
		if st, ok := tb.tryWaitFor(settledJS, time.Minute); !ok || st != "done" {
			dbg, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`JSON.stringify({states: window.__bt.states, result: window.bagnetResult !== undefined, status: document.querySelector("#status").textContent, active: document.activeElement?.outerHTML.slice(0, 200)})`))
			t.Fatalf("open row %d (%s): %q %v; %s", i+1, r.Path, st, ok, dbg)
		}
		got := tb.result()
		checkResult(t, fmt.Sprintf("row %d (%s)", i+1, r.Path), got, nativeFor(t, filepath.Join(parent, filepath.FromSlash(r.Path)), got))
		tb.waitFor(`document.activeElement && document.activeElement.id === "viewer-title" ? "yes" : ""`)
	}
	tb.screenshot("batch-rows")
}

// thumbRow is a row of the batch's results table.
type thumbRow struct {
	Path    string `json:"path"`
	Verdict string `json:"verdict"`
	W       int    `json:"w"` // the shown thumbnail's size (0 when none is shown)
	H       int    `json:"h"`
	Src     string `json:"src"` // its data: URL, "" when none is shown
}

// thumbRows reads the n rows of the batch's results table.
func (tb *tab) thumbRows(n int) []thumbRow {
	tb.t.Helper()
	rows, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]thumbRow](`Promise.all([...document.querySelectorAll("#batch-table tbody tr")].map(async r => {
		const img = r.querySelector("td.thumb img:not([hidden])");
		if (img) await img.decode().catch(() => {});
		return {path: r.querySelector(".file").textContent.trim(), verdict: r.dataset.verdict,
			w: img ? img.naturalWidth : 0, h: img ? img.naturalHeight : 0, src: img?.getAttribute("src") ?? ""};
	}))`, chromedp.EvalAwaitPromise))
	if err != nil {
		tb.t.Fatal(err)
	}
	if len(rows) != n {
		tb.t.Fatalf("%d rows, want %d", len(rows), n)
	}
	return rows
}
