package ui

import (
	"fmt"
	"testing"

	"github.com/bagnetweb/bagnet/protocol"
)

// pagedBatch is a finished batch of n labelled images whose top-1
// probability falls with the index; every third is wrong and image 5 failed.
func pagedBatch(n int) *Batch {
	b := &Batch{}
	for i := range n {
		it := &BatchItem{Path: fmt.Sprintf("f/c/%04d.jpg", i), Truth: 0, Done: true}
		switch {
		case i == 5:
			it.Err = "bad file"
		case i%3 == 0:
			it.Top = []protocol.Prediction{{Index: 1, Prob: float32(n-i) / float32(n)}}
		default:
			it.Top = []protocol.Prediction{{Index: 0, Prob: float32(n-i) / float32(n)}}
		}
		b.Items = append(b.Items, it)
	}
	b.Done = n
	return b
}

// TestBatchPanelPages pages the results table: BatchPageRows rows a page,
// sorting and filtering over every row, back to the first page on a new
// sort, filter or batch, the page kept within the rows.
func TestBatchPanelPages(t *testing.T) {
	b := pagedBatch(250)
	c := &BatchPanel{B: b}
	c.Compute()
	paths := func() []string {
		var out []string
		for _, it := range c.PageRows() {
			out = append(out, it.Path)
		}
		return out
	}
	if c.Pages() != 3 || c.Page != 0 || len(c.PageRows()) != 100 || c.PageText() != "rows 1–100 of 250, page 1 of 3" {
		t.Fatalf("first page: %d pages, page %d, %d rows, %q", c.Pages(), c.Page, len(c.PageRows()), c.PageText())
	}
	seen := map[string]bool{}
	for p := range 3 {
		if c.Page != p {
			t.Fatalf("page %d, want %d", c.Page, p)
		}
		for k, s := range paths() {
			if want := fmt.Sprintf("f/c/%04d.jpg", p*100+k); s != want {
				t.Fatalf("page %d row %d = %s, want %s", p+1, k+1, s, want)
			}
			seen[s] = true
		}
		c.NextPage()
		c.Compute()
	}
	if c.Page != 2 || len(seen) != 250 || len(c.PageRows()) != 50 || c.PageText() != "rows 201–250 of 250, page 3 of 3" {
		t.Errorf("after the last page: page %d, %d rows seen, %d shown, %q", c.Page, len(seen), len(c.PageRows()), c.PageText())
	}
	c.PrevPage()
	c.Compute()
	if c.Page != 1 {
		t.Errorf("Previous from the last page: page %d, want 1", c.Page)
	}

	// Sorting by probability sorts every row, not the page's.
	c.Sort, c.Page = "prob", 1
	c.Compute()
	if got := paths()[0]; got != "f/c/0101.jpg" {
		t.Errorf("sorted by probability, page 2 starts with %s, want f/c/0101.jpg", got)
	}
	c.Page = 2
	c.Compute()
	if rows := c.PageRows(); rows[len(rows)-1].Err == "" {
		t.Errorf("sorted by probability, the last row is %s, want the failed image", rows[len(rows)-1].Path)
	}

	// Filtering leaves fewer pages: the page stays within them.
	c.Filter = "wrong"
	c.Compute()
	if c.Pages() != 1 || c.Page != 0 || len(c.PageRows()) != 84 {
		t.Errorf("only wrong: %d pages, page %d, %d rows; want 1 page of 84", c.Pages(), c.Page, len(c.PageRows()))
	}
	for _, it := range c.PageRows() {
		if it.Verdict() != "wrong" {
			t.Fatalf("only wrong: %s is %s", it.Path, it.Verdict())
		}
	}

	// A new batch starts on its first page.
	c.Filter, c.Sort, c.Page = "", "", 2
	c.Compute()
	c.B = pagedBatch(120)
	c.Compute()
	if c.Page != 0 || c.Pages() != 2 || len(c.PageRows()) != 100 {
		t.Errorf("new batch: page %d of %d, %d rows; want page 0 of 2, 100 rows", c.Page, c.Pages(), len(c.PageRows()))
	}

	// No batch, or an empty filter: one empty page.
	c.Filter = "error"
	c.B = pagedBatch(3)
	c.Compute()
	if c.Pages() != 1 || len(c.PageRows()) != 0 {
		t.Errorf("no errors: %d pages, %d rows", c.Pages(), len(c.PageRows()))
	}
	c.B = nil
	c.Compute()
	if c.Pages() != 1 || len(c.PageRows()) != 0 {
		t.Errorf("no batch: %d pages, %d rows", c.Pages(), len(c.PageRows()))
	}
}
