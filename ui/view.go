package ui

import (
	"fmt"
	"github.com/bagnetweb/bagnet/geom"
	"math"
	"strconv"
	"strings"

	"github.com/vugu/vugu"

	"github.com/bagnetweb/bagnet/ui/viz"
)

// Text and small computations for the template. None of it touches
// JavaScript.

// ProgressNow is a bar's aria-valuenow (percent), omitted when unknown.
func ProgressNow(p Progress) any {
	if f := p.Fraction(); f >= 0 {
		return strconv.Itoa(int(math.Round(100 * f)))
	}
	return nil
}

// MeterClass styles a bar whose total is unknown as indeterminate.
func MeterClass(p Progress) string {
	if p.Fraction() < 0 {
		return "meter-fill indeterminate"
	}
	return "meter-fill"
}

// DropClass highlights the drop zone while a file is dragged over it.
func (c *Root) DropClass() string {
	if c.Dragging {
		return "dropzone dragging"
	}
	return "dropzone"
}

// HeatmapLabel describes the main picture for screen readers.
func (c *Root) HeatmapLabel() string {
	return fmt.Sprintf("The model's %d×%d input with the evidence for %s over it: red patches count for the class, blue against.",
		c.Cur.Geo.Size, c.Cur.Geo.Size, c.ClassName(c.Selected()))
}

// OpacityValue is the slider position.
func (c *Root) OpacityValue() string { return strconv.Itoa(int(math.Round(100 * c.Opacity))) }

// OnOpacity follows the slider.
func (c *Root) OnOpacity(e vugu.DOMEvent) {
	if v, err := strconv.Atoi(e.PropString("target", "value")); err == nil {
		c.Opacity = math.Max(0, math.Min(1, float64(v)/100))
	}
}

// RampStyle paints the legend.
func (c *Root) RampStyle() string { return "background: " + viz.Gradient() }

// HoverViz is the hovered patch's box.
func (c *Root) HoverViz() geom.Rect[int] {
	b := c.HoverBox()
	return geom.Rect[int]{X0: b[0], Y0: b[1], X1: b[2], Y1: b[3]}
}

// HoverText describes the hovered patch.
func (c *Root) HoverText() string {
	b := c.HoverBox()
	return fmt.Sprintf("Patch %d, %d: pixels %d–%d × %d–%d", c.Hover.I+1, c.Hover.J+1, b[0], b[2]-1, b[1], b[3]-1)
}

// HoverSource says where the hovered patch lies in the original image.
func (c *Root) HoverSource() string {
	if c.Cur == nil || c.Cur.Scramble != nil {
		return ""
	}
	b := c.HoverBox()
	x0, y0, x1, y1, ok := c.Cur.Transform.ToSource(b[0], b[1], b[2], b[3])
	if !ok {
		return ""
	}
	return fmt.Sprintf("In your %d×%d image: x %d–%d, y %d–%d", c.Cur.Transform.SrcW, c.Cur.Transform.SrcH, x0, x1-1, y0, y1-1)
}

// ScoreClass colours an evidence value.
func (c *Root) ScoreClass(v float32) string {
	if v < 0 {
		return "neg"
	}
	return "pos"
}

// SourceText says which image is shown.
func (c *Root) SourceText() string {
	t := c.Cur.Transform
	s := c.Cur.Label
	if t.SrcW > 0 {
		s += fmt.Sprintf(" (%d×%d → %d×%d)", t.SrcW, t.SrcH, t.Size, t.Size)
	}
	return s
}

// PredClass marks the selected prediction.
func (c *Root) PredClass(k int) string {
	if k == c.Selected() {
		return "pred-btn selected"
	}
	return "pred-btn"
}

// Pressed is aria-pressed for a class button.
func (c *Root) Pressed(k int) string { return strconv.FormatBool(k == c.Selected()) }

// LogitText is "score 4.21 = mean evidence 3.90 + bias 0.31".
func (c *Root) LogitText(a *Analysis, k int) string {
	if a == nil || k < 0 || k >= len(a.Result.Logits) {
		return ""
	}
	l := float64(a.Result.Logits[k])
	m := MeanEvidence(a, k)
	if math.IsNaN(m) {
		return "score " + Signed(l)
	}
	return fmt.Sprintf("score %s = mean patch evidence %s + bias %s", Signed(l), Signed(m), Signed(float64(a.Bias[k])))
}

// TimingsText lists where the time went.
func (c *Root) TimingsText() string {
	t := c.Cur.Timings
	var parts []string
	if t.DecodeMs > 0 {
		parts = append(parts, "decode "+Ms(t.DecodeMs))
	}
	if t.PreprocessMs > 0 {
		parts = append(parts, "resize "+Ms(t.PreprocessMs))
	}
	parts = append(parts, "network "+Ms(t.InferMs), "evidence maps "+Ms(t.EvidenceMs))
	if c.Cur.RoundTrip > 0 {
		parts = append(parts, "total "+Ms(c.Cur.RoundTrip))
	}
	return strings.Join(parts, " · ")
}

// ScrambleDisabled is true while the experiment cannot run.
func (c *Root) ScrambleDisabled() bool { return c.Cur == nil || c.Busy() }

// ScrambleHelp explains the button.
func (c *Root) ScrambleHelp() string {
	if c.Info == nil {
		return ""
	}
	return fmt.Sprintf("Cut the %d-pixel input into tiles no smaller than a %d-pixel patch, shuffle them and classify again. A bag of local features barely cares where things are.",
		c.Info.InputSize, c.Info.Patch)
}

// ScrambleCaption describes the scrambled input.
func (c *Root) ScrambleCaption() string {
	s := c.Scr.Scramble
	return fmt.Sprintf("Scrambled: %d×%d tiles of %d px", s.N, s.N, s.Tile)
}

// Verdict compares the two predictions.
func (c *Root) Verdict() string {
	if c.Cur == nil || c.Scr == nil || len(c.Cur.Result.Top) == 0 || len(c.Scr.Result.Top) == 0 {
		return ""
	}
	a, b := c.Cur.Result.Top[0], c.Scr.Result.Top[0]
	k := a.Index
	if a.Index == b.Index {
		return fmt.Sprintf("Still %s: %s before, %s after shuffling.", a.Name, Percent(float64(a.Prob)), Percent(c.Scr.Prob(k)))
	}
	return fmt.Sprintf("Now %s (%s); %s fell from %s to %s.", b.Name, Percent(float64(b.Prob)), a.Name,
		Percent(float64(a.Prob)), Percent(c.Scr.Prob(k)))
}

// StatusText is the status line: hidden behind the error message when
// there is one.
func (c *Root) StatusText() string {
	if c.Err != "" {
		return ""
	}
	return c.Status
}

// EngineText says where and how the network runs.
func (c *Root) EngineText() string {
	w, k := "", ""
	if c.Info != nil {
		switch strings.ToLower(c.Info.DType) {
		case "int8":
			w = ", with 8-bit integer weights"
		case "float32":
			w = ", with 32-bit floating-point weights"
		}
		if c.Info.Kernel != "" {
			k = " Engine: " + c.Info.Kernel + "."
		}
	}
	return "The network runs in WebAssembly (Go) in a background worker of this page" + w +
		"." + k + " The page loads nothing from any other site, and after the first visit it works offline."
}
