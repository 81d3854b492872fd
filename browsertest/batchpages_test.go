package browsertest

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// batchPageRows is ui.BatchPageRows: the rows a page of the results table
// shows.
const batchPageRows = 100

// TestBatchPages is a session with a folder larger than one page of the
// results table (123 images): the table never holds more than a page of
// rows, even while the batch runs; paging through shows every image once;
// sorting and filtering take every row, not the page's, and go back to the
// first page; a row on the second page opens the file's own result (the
// native engine's, bit for bit); and after all that the report is still
// 'bagnet eval -json' byte for byte.
func TestBatchPages(t *testing.T) {
	t.Parallel() // independent tabs (see newTab)
	tb := newTab(t)
	parent, name := batchFolder(t, []string{"n01440764", "n02102040", "n02979186", "n03000684"}, 30)
	want := string(cliEval(t, parent, name))
	var files []string
	filepath.WalkDir(filepath.Join(parent, name), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(parent, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	const total = 123 // 4x30 labelled, the corrupt one, holiday/beach.jpg, loose.jpg
	if len(files) != total {
		t.Fatalf("the folder has %d files, want %d", len(files), total)
	}
	// The table's file order is eval's: the class folders' images (the
	// model's class order: these WordNet ids' order), then the others.
	slices.SortFunc(files, func(a, b string) int {
		la, lb := strings.HasPrefix(a, name+"/n0"), strings.HasPrefix(b, name+"/n0")
		if la != lb {
			if la {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})

	tb.open(suite.srv.URL)
	tb.chooseFolder(filepath.Join(parent, name))
	// While it runs: the first page, 100 rows, of all the folder's images.
	tb.waitFor(`window.bagnetBatch && window.bagnetBatch.running && window.bagnetBatch.done >= 2 && document.querySelector("#batch-page") ? "yes" : ""`)
	if n := tb.rowCount(); n != batchPageRows {
		t.Errorf("while the batch runs: %d rows, want %d", n, batchPageRows)
	}
	if got, want := tb.text("#batch-page"), "rows 1–100 of 123, page 1 of 2"; got != want {
		t.Errorf("while the batch runs: #batch-page %q, want %q", got, want)
	}
	tb.waitFor(`window.bagnetBatch && !window.bagnetBatch.running ? "yes" : ""`)
	s := windowValue[batchState](tb, "bagnetBatch")
	if s.Total != total || s.Done != total || s.Errors != 1 || s.Report != want {
		t.Fatalf("window.bagnetBatch = %+v, want %d of %d done, 1 error, and the report of bagnet eval -json:\n%s", s, total, total, want)
	}
	t.Logf("%d images at %.2f images/s", s.Done, s.Rate)

	// Page through: every image once, in file order.
	first := tb.pageRows()
	if len(first) != batchPageRows || !tb.disabled("#batch-prev") || tb.disabled("#batch-next") {
		t.Fatalf("page 1: %d rows, Previous disabled %v, Next disabled %v", len(first), tb.disabled("#batch-prev"), tb.disabled("#batch-next"))
	}
	second := tb.turnPage("#batch-next", "rows 101–123 of 123, page 2 of 2")
	if len(second) != total-batchPageRows || tb.disabled("#batch-prev") || !tb.disabled("#batch-next") {
		t.Fatalf("page 2: %d rows, Previous disabled %v, Next disabled %v", len(second), tb.disabled("#batch-prev"), tb.disabled("#batch-next"))
	}
	all := append(first, second...)
	var paths []string
	wrong := 0
	for _, r := range all {
		paths = append(paths, r.Path)
		if r.Verdict == "wrong" {
			wrong++
		}
	}
	if !slices.Equal(paths, files) {
		t.Errorf("the two pages show\n%q\nwant every file once, in order:\n%q", paths, files)
	}
	if back := tb.turnPage("#batch-prev", "rows 1–100 of 123, page 1 of 2"); back[0].Path != files[0] {
		t.Errorf("Previous page: first row %s, want %s", back[0].Path, files[0])
	}

	// Sorted by probability: over every row (page 1 holds the 100 most
	// probable, page 2 the rest, the failed image last), from page 1.
	tb.turnPage("#batch-next", "rows 101–123 of 123, page 2 of 2")
	tb.selectValue("#batch-sort", "prob")
	tb.waitFor(`document.querySelector("#batch-page")?.textContent.trim() === "rows 1–100 of 123, page 1 of 2" ? "yes" : ""`)
	sorted := tb.pageRows()
	sorted = append(sorted, tb.turnPage("#batch-next", "rows 101–123 of 123, page 2 of 2")...)
	for i := 1; i < len(sorted); i++ {
		if sorted[i].prob(t) > sorted[i-1].prob(t) {
			t.Fatalf("sorted by probability: row %d (%s, %s) above row %d (%s, %s)", i, sorted[i-1].Path, sorted[i-1].Top, i+1, sorted[i].Path, sorted[i].Top)
		}
	}
	if last := sorted[len(sorted)-1]; len(sorted) != total || last.Verdict != "error" {
		t.Errorf("sorted by probability: %d rows, the last %s (%s), want %d, the failed image last", len(sorted), last.Path, last.Verdict, total)
	}

	// Filtered: every wrong image of both pages, on one page.
	tb.selectValue("#batch-filter", "wrong")
	tb.waitFor(`document.querySelector("#batch-pager") === null ? "yes" : ""`)
	only := tb.pageRows()
	if len(only) != wrong || wrong == 0 {
		t.Errorf("only wrong: %d rows, want the %d wrong rows of the two pages", len(only), wrong)
	}
	for _, r := range only {
		if r.Verdict != "wrong" {
			t.Errorf("only wrong: %s is %s", r.Path, r.Verdict)
		}
	}
	tb.selectValue("#batch-filter", "error")
	tb.waitFor(`document.querySelectorAll("#batch-table tbody tr").length === 1 ? "yes" : ""`)

	// Back to all, by file: open rows of page 2 in turn.
	tb.selectValue("#batch-filter", "all")
	tb.selectValue("#batch-sort", "file")
	tb.waitFor(`document.querySelector("#batch-page")?.textContent.trim() === "rows 1–100 of 123, page 1 of 2" ? "yes" : ""`)
	opened := 0
	for _, r := range tb.turnPage("#batch-next", "rows 101–123 of 123, page 2 of 2") {
		if r.Verdict == "error" || opened == 2 {
			continue
		}
		opened++
		sel := fmt.Sprintf(`#batch-table tbody tr .file button[title="Open %s in the full analysis"]`, r.Path)
		if st, ok := tb.tryWaitFor(armJS+`, "x"`, time.Minute); !ok {
			t.Fatal(st)
		}
		if err := chromedp.Do(tb.ctx, chromedp.Focus(chromedp.CSS(sel)), chromedp.KeyEvent(kb.Enter)); err != nil {
			t.Fatalf("open %s: %v", r.Path, err)
		}
		if st, ok := tb.tryWaitFor(settledJS, time.Minute); !ok || st != "done" {
			t.Fatalf("open %s from page 2: %q %v", r.Path, st, ok)
		}
		got := tb.result()
		checkResult(t, r.Path+" (page 2)", got, nativeFor(t, filepath.Join(parent, filepath.FromSlash(r.Path)), got))
		// The table stays on page 2.
		if p := tb.text("#batch-page"); p != "rows 101–123 of 123, page 2 of 2" {
			t.Errorf("after opening %s: #batch-page %q", r.Path, p)
		}
	}
	if opened != 2 {
		t.Errorf("opened %d rows of page 2, want 2", opened)
	}
	if s := windowValue[batchState](tb, "bagnetBatch"); s.Report != want {
		t.Errorf("after the session the report differs from bagnet eval -json:\npage %s\ncli  %s", s.Report, want)
	}
	if n := tb.rowCount(); n != total-batchPageRows {
		t.Errorf("after the session: %d rows, want %d", n, total-batchPageRows)
	}
}

// pageRow is a row of the results table's page shown.
type pageRow struct {
	Path    string `json:"path"`
	Verdict string `json:"verdict"`
	Top     string `json:"top"` // "class (62.7%)"; "" for an error
}

// prob is the row's top-1 probability, -1 when it has none.
func (r pageRow) prob(t *testing.T) float64 {
	t.Helper()
	i := strings.LastIndex(r.Top, "(")
	if i < 0 {
		return -1
	}
	p := strings.TrimSuffix(r.Top[i+1:], "%)")
	p = strings.TrimLeft(p, "<>")
	v, err := strconv.ParseFloat(p, 64)
	if err != nil {
		t.Fatalf("%s: top-1 %q: %v", r.Path, r.Top, err)
	}
	return v
}

// pageRows reads the rows of the table's page shown.
func (tb *tab) pageRows() []pageRow {
	tb.t.Helper()
	rows, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]pageRow](`[...document.querySelectorAll("#batch-table tbody tr")].map(r => ({
		path: r.querySelector(".file").textContent.trim(), verdict: r.dataset.verdict, top: r.children[2].textContent.trim()}))`))
	if err != nil {
		tb.t.Fatal(err)
	}
	return rows
}

// rowCount is how many rows the results table holds.
func (tb *tab) rowCount() int {
	tb.t.Helper()
	n, err := chromedp.Run(tb.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#batch-table tbody tr").length`))
	if err != nil {
		tb.t.Fatal(err)
	}
	return n
}

// turnPage presses the page button sel and waits until #batch-page says
// text; it returns the page's rows.
func (tb *tab) turnPage(sel, text string) []pageRow {
	tb.t.Helper()
	tb.js(fmt.Sprintf(`document.querySelector(%q).click()`, sel))
	tb.waitFor(fmt.Sprintf(`document.querySelector("#batch-page")?.textContent.trim() === %q ? "yes" : ""`, text))
	return tb.pageRows()
}

// disabled reports whether the element sel selects is disabled.
func (tb *tab) disabled(sel string) bool {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[bool](fmt.Sprintf(`document.querySelector(%q).disabled`, sel)))
	if err != nil {
		tb.t.Fatal(err)
	}
	return v
}

// selectValue chooses value in the select sel selects, as a user does
// (a change event follows).
func (tb *tab) selectValue(sel, value string) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, chromedp.SetValue(chromedp.CSS(sel), value),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).dispatchEvent(new Event("change", {bubbles: true}))`, sel))); err != nil {
		tb.t.Fatalf("choose %s in %s: %v", value, sel, err)
	}
}
