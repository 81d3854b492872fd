package ui

import (
	"fmt"

	"github.com/bagnetweb/bagnet/geom"
	"github.com/bagnetweb/bagnet/ui/viz"
)

// PatchList shows the patches with the most evidence for and against a
// class; clicking one shows it on the image.
type PatchList struct {
	A         *Analysis
	Class     int
	ClassName func(int) string
	OnShow    func(Cell)
}

// PatchView is one patch shown in the list.
type PatchView struct {
	Cell  Cell
	Box   geom.Rect[int]
	Value float32
}

// Extremes are the n most positive and the n most negative patches.
func (c *PatchList) Extremes(n int) (top, bottom []PatchView) {
	if c.A == nil || c.A.Maps[c.Class] == nil {
		return nil, nil
	}
	ev, g := c.A.Maps[c.Class], c.A.Geo
	conv := func(idx []int) []PatchView {
		out := make([]PatchView, len(idx))
		for k, at := range idx {
			i, j := at/g.W, at%g.W
			out[k] = PatchView{Cell: Cell{I: i, J: j, OK: true}, Box: g.CellBox(i, j), Value: ev[at]}
		}
		return out
	}
	t, b := viz.Extremes(ev, n)
	return conv(t), conv(b)
}

// TopPatches and BottomPatches feed the template.
func (c *PatchList) TopPatches() []PatchView    { t, _ := c.Extremes(6); return t }
func (c *PatchList) BottomPatches() []PatchView { _, b := c.Extremes(6); return b }

// PatchLabel describes a patch button.
func (c *PatchList) PatchLabel(p PatchView) string {
	return fmt.Sprintf("Patch at %s with evidence %s: show it on the image", CellName(p.Cell.I, p.Cell.J), Signed(float64(p.Value)))
}
