package ui

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vugu/vugu"
	"github.com/vugu/vugu/js"

	"github.com/bagnetweb/bagnet/evalreport"
)

// BatchPanel chooses a folder of images, shows the batch's progress and
// its results table (sortable, filterable), and, for a labelled folder,
// per-class accuracy and the confusion table.
type BatchPanel struct {
	B        *Batch
	Busy     bool
	OnFiles  func(files js.Value)
	OnCancel func()
	OnSave   func()
	OnOpen   func(it *BatchItem) // opens an item's file in the full analysis

	Sort   string // file, prob or verdict
	Filter string // all, wrong or error
	Page   int    // the page of the table shown, from 0 (BatchPageRows rows a page)

	folderDrop // a folder or files dropped on the panel (drop.go)

	rep     *evalreport.Report
	repDone int
	repOf   *Batch
	pageOf  *Batch       // the batch Page is of: a new batch starts on the first page
	rows    []*BatchItem // Rows as of this render (Compute)
}

// BatchPageRows is how many rows of the results table a page shows: a
// folder of a thousand images keeps the page's DOM small. Sorting and
// filtering take every row.
const BatchPageRows = 100

// BusyAttr is aria-disabled.
func (c *BatchPanel) BusyAttr() string { return fmt.Sprint(c.Busy) }

// OnChoose starts a batch with the chosen folder's files.
func (c *BatchPanel) OnChoose(e vugu.DOMEvent) { takeChosen(e, c.OnFiles) }

// Open opens an item's file in the full analysis.
func (c *BatchPanel) Open(it *BatchItem) {
	if c.OnOpen != nil {
		c.OnOpen(it)
	}
}

// OnDrop starts a batch with a dropped folder or files.
func (c *BatchPanel) OnDrop(e vugu.DOMEvent) { c.takeDrop(e, c.Busy || c.Running(), c.OnFiles) }

// takeChosen hands the files a file input chose to on and clears the
// input (so that choosing the same folder again is a change). Whether the
// page can take them now is on's to say (it tells the user when not): the
// panel's Busy is as of the last render, which may be behind.
func takeChosen(e vugu.DOMEvent, on func(files js.Value)) {
	input := e.JSEventTarget()
	files := input.Get("files")
	if !files.Truthy() || files.Length() == 0 {
		return
	}
	on(files)
	input.Set("value", "")
}

// OnFilter and OnSort change the table, which shows its first page again.
func (c *BatchPanel) OnFilter(e vugu.DOMEvent) {
	c.Filter, c.Page = e.JSEventTarget().Get("value").String(), 0
}

// OnSort changes the table's order.
func (c *BatchPanel) OnSort(e vugu.DOMEvent) {
	c.Sort, c.Page = e.JSEventTarget().Get("value").String(), 0
}

// Running reports whether the batch runs.
func (c *BatchPanel) Running() bool { return c.B != nil && c.B.Running }

// CanSave reports whether the report is complete.
func (c *BatchPanel) CanSave() bool { return c.Rep() != nil && len(c.B.Classes) > 0 }

// Rep is the batch's report (cached per batch), nil while it runs.
func (c *BatchPanel) Rep() *evalreport.Report {
	if c.B == nil || c.B.Running || c.B.Cancelled {
		return nil
	}
	if c.repOf != c.B || c.repDone != c.B.Done || c.rep == nil {
		c.rep, c.repOf, c.repDone = c.B.Report(), c.B, c.B.Done
	}
	return c.rep
}

// Fraction is the part done.
func (c *BatchPanel) Fraction() float64 {
	if len(c.B.Items) == 0 {
		return 0
	}
	return float64(c.B.Done) / float64(len(c.B.Items))
}

// CountText is "done / total".
func (c *BatchPanel) CountText() string { return fmt.Sprintf("%d / %d", c.B.Done, len(c.B.Items)) }

// SpeedText is images per second and the time left.
func (c *BatchPanel) SpeedText() string {
	r := c.B.Rate()
	if r <= 0 {
		return ""
	}
	s := fmt.Sprintf("%.1f images per second", r)
	if c.B.Running {
		s += fmt.Sprintf(", about %s left", seconds(time.Duration(float64(len(c.B.Items)-c.B.Done)/r*float64(time.Second))))
	} else if c.B.Cancelled {
		s += "; cancelled"
	}
	return s
}

// AccuracyText is the top-1 and top-5 accuracy.
func (c *BatchPanel) AccuracyText() string {
	r := c.Rep()
	if len(r.Classes) == 0 {
		return "No image is in a class folder of this model: nothing to score."
	}
	return fmt.Sprintf("%d labelled images in %d classes: top-1 %s, top-5 %s; %d could not be read.",
		r.Images, len(r.Classes), pctOf(r.Top1), pctOf(r.Top5), r.Errors)
}

func pctOf(f *float64) string {
	if f == nil {
		return "–"
	}
	return Percent(*f)
}

// ClassRows are the per-class lines: name, images, top-1, top-5.
func (c *BatchPanel) ClassRows() [][4]string {
	r := c.Rep()
	var out [][4]string
	for _, id := range r.Classes {
		s := r.PerClass[id]
		out = append(out, [4]string{s.Name + " (" + id + ")", fmt.Sprint(s.Images), pctOf(s.Top1), pctOf(s.Top5)})
	}
	return out
}

// Compute lists the table's rows (filtered and sorted) once a render,
// and keeps the page within them.
func (c *BatchPanel) Compute() {
	c.rows = nil
	if c.B != nil {
		c.rows = c.Rows()
	}
	if c.pageOf != c.B {
		c.pageOf, c.Page = c.B, 0
	}
	c.Page = max(0, min(c.Page, c.Pages()-1))
}

// PageRows are the rows of the page shown.
func (c *BatchPanel) PageRows() []*BatchItem {
	return c.rows[c.Page*BatchPageRows : min(len(c.rows), (c.Page+1)*BatchPageRows)]
}

// Pages is how many pages the table has (one when it is empty).
func (c *BatchPanel) Pages() int { return max(1, (len(c.rows)+BatchPageRows-1)/BatchPageRows) }

// PageText says which rows the page shows: "rows 101–200 of 1000, page 2
// of 10".
func (c *BatchPanel) PageText() string {
	return fmt.Sprintf("rows %d–%d of %d, page %d of %d", c.Page*BatchPageRows+1, min(len(c.rows), (c.Page+1)*BatchPageRows), len(c.rows), c.Page+1, c.Pages())
}

// PrevPage and NextPage turn the table's page.
func (c *BatchPanel) PrevPage() { c.Page = max(0, c.Page-1) }

// NextPage shows the next page.
func (c *BatchPanel) NextPage() { c.Page = min(c.Pages()-1, c.Page+1) }

// Rows are the items shown on every page: filtered and sorted.
func (c *BatchPanel) Rows() []*BatchItem {
	var out []*BatchItem
	for _, it := range c.B.Items {
		switch c.Filter {
		case "wrong":
			if it.Verdict() != "wrong" {
				continue
			}
		case "error":
			if it.Err == "" {
				continue
			}
		}
		out = append(out, it)
	}
	prob := func(it *BatchItem) float32 {
		if len(it.Top) == 0 {
			return -1
		}
		return it.Top[0].Prob
	}
	switch c.Sort {
	case "prob":
		sort.SliceStable(out, func(a, b int) bool { return prob(out[a]) > prob(out[b]) })
	case "verdict":
		sort.SliceStable(out, func(a, b int) bool { return strings.Compare(out[a].Verdict(), out[b].Verdict()) < 0 })
	}
	return out
}
