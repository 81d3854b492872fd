package ui

import (
	"math"

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
