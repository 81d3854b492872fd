package ui

import (
	"fmt"
	"math"
	"strconv"

	"github.com/vugu/vugu"

	"github.com/bagnetweb/bagnet/geom"
	"github.com/bagnetweb/bagnet/protocol"
	"github.com/bagnetweb/bagnet/ui/viz"
)

// EvidenceView is the main picture: the model input with one class's
// evidence over it, the overlay's opacity, the colour scale, the exports,
// and the patch under the cursor with what it says about each class.
type EvidenceView struct {
	A            *Analysis
	Class        int
	ClassName    func(int) string
	Classes      []protocol.Class
	Lim          float32
	Opacity      float64
	OnOpacity    func(float64)
	Hover        Cell
	OnHover      func(Cell)
	OnExportPNG  func()
	OnExportJSON func()
}

// HeatmapLabel describes the main picture for screen readers.
func (c *EvidenceView) HeatmapLabel() string {
	return fmt.Sprintf("The model's %d×%d input with the evidence for %s over it: red patches count for the class, blue against.",
		c.A.Geo.Size, c.A.Geo.Size, c.ClassName(c.Class))
}

// OpacityValue is the slider position.
func (c *EvidenceView) OpacityValue() string { return strconv.Itoa(int(math.Round(100 * c.Opacity))) }

// OnSlide follows the slider.
func (c *EvidenceView) OnSlide(e vugu.DOMEvent) {
	if v, err := strconv.Atoi(e.PropString("target", "value")); err == nil && c.OnOpacity != nil {
		c.OnOpacity(float64(v) / 100)
	}
}

// RampStyle paints the legend.
func (c *EvidenceView) RampStyle() string { return "background: " + viz.Gradient() }

// HoverViz is the hovered patch's box.
func (c *EvidenceView) HoverViz() geom.Rect[int] {
	b := c.HoverBox()
	return geom.Rect[int]{X0: b[0], Y0: b[1], X1: b[2], Y1: b[3]}
}

// HoverText describes the hovered patch.
func (c *EvidenceView) HoverText() string {
	b := c.HoverBox()
	return fmt.Sprintf("Patch at %s: pixels %d–%d × %d–%d", CellName(c.Hover.I, c.Hover.J), b[0], b[2]-1, b[1], b[3]-1)
}

// HoverSource says where the hovered patch lies in the original image.
func (c *EvidenceView) HoverSource() string {
	if c.A == nil || c.A.Scramble != nil {
		return ""
	}
	b := c.HoverBox()
	x0, y0, x1, y1, ok := c.A.Transform.ToSource(b[0], b[1], b[2], b[3])
	if !ok {
		return ""
	}
	return fmt.Sprintf("In your %d×%d image: x %d–%d, y %d–%d", c.A.Transform.SrcW, c.A.Transform.SrcH, x0, x1-1, y0, y1-1)
}

// ScoreClass colours an evidence value.
func (c *EvidenceView) ScoreClass(v float32) string {
	if v < 0 {
		return "neg"
	}
	return "pos"
}

// HoverBox is the receptive field of the hovered patch, for the outline.
func (c *EvidenceView) HoverBox() [4]int {
	if c.A == nil || !c.Hover.OK {
		return [4]int{}
	}
	b := c.A.Geo.CellBox(c.Hover.I, c.Hover.J)
	return [4]int{b.X0, b.Y0, b.X1, b.Y1}
}

// HoverClasses ranks the classes at the hovered patch.
func (c *EvidenceView) HoverClasses() []ClassScore {
	return c.A.CellClasses(c.Hover, c.Classes, 5)
}
