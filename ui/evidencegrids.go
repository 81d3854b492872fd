package ui

import (
	"fmt"
	"math"

	"github.com/bagnetweb/bagnet/geom"
	"github.com/bagnetweb/bagnet/ui/viz"
)

// EvidenceGrids shows the evidence maps of several classes as small
// multiples on one colour scale; clicking one selects its class.
type EvidenceGrids struct {
	A         *Analysis
	Classes   []int
	Selected  int
	ClassName func(int) string
	OnSelect  func(int)
}

// Limit is the colour range shared by all small multiples.
func (c *EvidenceGrids) Limit() float32 {
	var maps [][]float32
	for _, k := range c.Classes {
		maps = append(maps, c.A.Maps[k])
	}
	return viz.Limit(maps...)
}

// MiniClass marks the selected small multiple.
func (c *EvidenceGrids) MiniClass(k int) string {
	if k == c.Selected {
		return "mini selected"
	}
	return "mini"
}

// MeanText is a class's mean evidence.
func (c *EvidenceGrids) MeanText(a *Analysis, k int) string {
	m := MeanEvidence(a, k)
	if math.IsNaN(m) {
		return "…"
	}
	return "mean " + Signed(m)
}

// GridRange is the colour range, "−3.20 to +3.20".
func (c *EvidenceGrids) GridRange() string {
	l := float64(c.Limit())
	return Signed(-l) + " to " + Signed(l)
}

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
