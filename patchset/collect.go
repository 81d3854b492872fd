package patchset

import (
	"fmt"

	"github.com/bagnetweb/bagnet/protocol"
)

// Wire packs an image's candidates for every class of a model (ev(c) is
// class c's evidence map) as the worker sends them to the page.
func Wire(classes, k int, ev func(c int) ([]float32, error)) (*protocol.PatchCandidates, error) {
	if k < 1 {
		return nil, fmt.Errorf("patch candidates: %d per image, want at least 1", k)
	}
	w := &protocol.PatchCandidates{K: k}
	for c := 0; c < classes; c++ {
		m, err := ev(c)
		if err != nil {
			return nil, err
		}
		pos, neg := Candidates(m, k)
		for _, l := range [][]Cand{pos, neg} {
			for _, x := range l {
				w.Cells = append(w.Cells, x.Cell)
				w.Evidence = append(w.Evidence, x.Evidence)
			}
		}
	}
	return w, nil
}

// unwire is class c's candidates in w, an image's for classes classes with
// cells cells each.
func unwire(w *protocol.PatchCandidates, c, classes, cells int) (pos, neg []Cand, err error) {
	k := min(w.K, cells)
	if w.K < 1 || len(w.Cells) != 2*k*classes || len(w.Evidence) != len(w.Cells) {
		return nil, nil, fmt.Errorf("patch candidates: %d cells and %d values for %d classes of %d per list, want %d", len(w.Cells), len(w.Evidence), classes, k, 2*k*classes)
	}
	at := func(o int) []Cand {
		out := make([]Cand, k)
		for i := range out {
			out[i] = Cand{w.Cells[o+i], w.Evidence[o+i]}
			if out[i].Cell < 0 || out[i].Cell >= cells {
				err = fmt.Errorf("patch candidates: cell %d out of range [0, %d)", out[i].Cell, cells)
			}
		}
		return out
	}
	pos, neg = at(2*k*c), at(2*k*c+k)
	return pos, neg, err
}

// Collection gathers the lists of every class of a model over a
// collection of images, image by image, from their wire candidates: what
// the page keeps of a folder (N hits a list, 3 lists a class; never an
// image's map).
type Collection struct {
	N, PerImage int // patches in each list; at most PerImage of one image in a list
	Labelled    bool
	classes     []*Lists
}

// NewCollection starts the lists of classes classes.
func NewCollection(classes, n, perImage int, labelled bool) *Collection {
	c := &Collection{N: n, PerImage: perImage, Labelled: labelled}
	for k := 0; k < classes; k++ {
		c.classes = append(c.classes, NewLists(k, n, labelled))
	}
	return c
}

// Add offers image im's candidates w (Wire's, with k = PerImage) to every
// class's lists; the map has cells cells.
func (c *Collection) Add(im *Image, g Geometry, cells int, w *protocol.PatchCandidates) error {
	if w == nil {
		return fmt.Errorf("%s: no patch candidates", im.Path)
	}
	if w.K != c.PerImage {
		return fmt.Errorf("%s: patch candidates of %d per image, want %d", im.Path, w.K, c.PerImage)
	}
	// All checked before any is offered: a bad answer changes nothing.
	cands := make([][2][]Cand, len(c.classes))
	for k := range c.classes {
		pos, neg, err := unwire(w, k, len(c.classes), cells)
		if err != nil {
			return fmt.Errorf("%s: %v", im.Path, err)
		}
		cands[k] = [2][]Cand{pos, neg}
	}
	for k, l := range c.classes {
		l.Offer(im, g, cands[k][0], cands[k][1], nil)
	}
	return nil
}

// Lists are class k's lists (nil when out of range).
func (c *Collection) Lists(k int) *Lists {
	if k < 0 || k >= len(c.classes) {
		return nil
	}
	return c.classes[k]
}
