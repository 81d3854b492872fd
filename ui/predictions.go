package ui

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/bagnetweb/bagnet/protocol"
)

// Predictions lists the top classes with their scores (a click selects
// one), finds any other class (ClassPicker), says where the time went and
// starts the scramble experiment.
type Predictions struct {
	A           *Analysis
	Info        *protocol.Info
	Selected    int
	OnSelect    func(int)
	OnScramble  func()
	ScrambleOff bool
	// OutOfSet names what the image shows when the page knows it is none of
	// the model's classes (a gallery sample of another WordNet id), else "".
	OutOfSet string
}

// SourceText says which image is shown.
func (c *Predictions) SourceText() string {
	t := c.A.Transform
	s := c.A.Label
	if t.SrcW > 0 {
		s += fmt.Sprintf(" (%d×%d → %d×%d)", t.SrcW, t.SrcH, t.Size, t.Size)
	}
	return s
}

// Fit says whether any class of the model fits the image: not when the
// page knows the image shows something else (OutOfSet), else as
// protocol's FitRule judges (the same rule for the page and the command
// line) on the top class's probability and evidence map and the image's
// size.
func (c *Predictions) Fit() protocol.Fit {
	a := c.A
	if a == nil || c.Info == nil || len(a.Result.Top) == 0 {
		return protocol.Fit{OK: true}
	}
	if c.OutOfSet != "" {
		n := len(c.Info.Classes)
		return protocol.Fit{Why: fmt.Sprintf("This sample (%s) is not one of this model's %d classes: whatever it says, it can only answer with one of those %d.", c.OutOfSet, n, n)}
	}
	k := a.Result.Top[0].Index
	rule := protocol.FitRuleFor(len(c.Info.Classes), c.Info.Meta)
	return rule.Judge(a.Prob(k), a.Maps[k], a.Transform.SrcW, a.Transform.SrcH, c.Info.Patch)
}

// PredClass marks the selected prediction.
func (c *Predictions) PredClass(k int) string {
	if k == c.Selected {
		return "pred-btn selected"
	}
	return "pred-btn"
}

// Pressed is aria-pressed for a class button.
func (c *Predictions) Pressed(k int) string { return strconv.FormatBool(k == c.Selected) }

// LogitText is "score 4.21 = mean evidence 3.90 + bias 0.31".
func (c *Predictions) LogitText(a *Analysis, k int) string {
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
func (c *Predictions) TimingsText() string {
	t := c.A.Timings
	var parts []string
	if t.DecodeMs > 0 {
		parts = append(parts, "decode "+Ms(t.DecodeMs))
	}
	if t.PreprocessMs > 0 {
		parts = append(parts, "resize "+Ms(t.PreprocessMs))
	}
	parts = append(parts, "network "+Ms(t.InferMs), "evidence maps "+Ms(t.EvidenceMs))
	if c.A.RoundTrip > 0 {
		parts = append(parts, "total "+Ms(c.A.RoundTrip))
	}
	return strings.Join(parts, " · ")
}

// ScrambleHelp explains the button.
func (c *Predictions) ScrambleHelp() string {
	if c.Info == nil {
		return ""
	}
	return fmt.Sprintf("Cut the %d-pixel input into tiles no smaller than a %d-pixel patch, shuffle them and classify again. A bag of local features barely cares where things are.",
		c.Info.InputSize, c.Info.Patch)
}
