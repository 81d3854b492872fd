package ui

import (
	"testing"

	"github.com/bagnetweb/bagnet/patchset"
	"github.com/bagnetweb/bagnet/teachset"
)

// The teach panel's "what each class learned": the pass's progress, then
// one row of patches per class, each opening its patch as its class's.
func TestTaughtPatchesText(t *testing.T) {
	cls := []teachset.Class{{ID: "dog", Name: "dog"}, {ID: "golden-retriever", Name: "Golden Retriever!"}}
	b := &Batch{Items: make([]*BatchItem, 8), Done: 2, Running: true, Elapsed: 1000}
	p := &PatchRun{ids: map[int]int{}}
	c := &TaughtPatches{R: &TaughtRun{T: &Teaching{Classes: cls}, B: b, P: p}}
	if got, want := c.CountText(), "2 / 8"; got != want {
		t.Errorf("count %q, want %q", got, want)
	}
	if got := c.Fraction(); got != 0.25 {
		t.Errorf("fraction %v, want 0.25", got)
	}
	if got, want := c.StatusText(), "Classifying the taught images with the taught model: 2.0 images per second, about 3 s left…"; got != want {
		t.Errorf("running: %q, want %q", got, want)
	}
	if len(c.Classes()) != 0 {
		t.Errorf("classes shown while running: %v", c.Classes())
	}
	b.Running, b.Cancelled = false, true
	if got, want := c.StatusText(), "Cancelled after 2 of 8 images: the patches below are of those."; got != want {
		t.Errorf("cancelled: %q, want %q", got, want)
	}
	b.Cancelled, b.Done, b.Elapsed = false, 8, 2500
	p.ids[7] = 0
	if got, want := c.StatusText(), "The 8 taught images, classified by the taught model in 2.5 s. Cutting out the patches of 1 more images…"; got != want {
		t.Errorf("done: %q, want %q", got, want)
	}
	h := &patchset.Hit{Image: "mine/golden-retriever/a.jpg"}
	c.R.Fors = [][]*patchset.Hit{{}, {h}}
	var opened []int
	c.OnOpen = func(k int, x *patchset.Hit) {
		if x == h {
			opened = append(opened, k)
		}
	}
	rows := c.Classes()
	if len(rows) != 2 || rows[0].Title != "dog" || rows[1].Title != "Golden Retriever! (golden-retriever)" || rows[1].ID != "tp-for-1" || len(rows[1].Hits) != 1 {
		t.Fatalf("rows %+v", rows)
	}
	rows[1].Open(h)
	if len(opened) != 1 || opened[0] != 1 {
		t.Errorf("opening the patch of class 1 opened %v", opened)
	}
}
