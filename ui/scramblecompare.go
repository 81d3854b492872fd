package ui

import "fmt"

// ScrambleCompare shows the original and the scrambled input side by side
// with their evidence and predictions: does the decision survive shuffling
// the tiles?
type ScrambleCompare struct {
	Orig, Scr *Analysis
	Class     int
	ClassName func(int) string
	Lim       float32
	Opacity   float64
}

// ScrambleCaption describes the scrambled input.
func (c *ScrambleCompare) ScrambleCaption() string {
	s := c.Scr.Scramble
	return fmt.Sprintf("Scrambled: %d×%d tiles of %d px", s.N, s.N, s.Tile)
}

// Verdict compares the two predictions.
func (c *ScrambleCompare) Verdict() string {
	if c.Orig == nil || c.Scr == nil || len(c.Orig.Result.Top) == 0 || len(c.Scr.Result.Top) == 0 {
		return ""
	}
	a, b := c.Orig.Result.Top[0], c.Scr.Result.Top[0]
	k := a.Index
	if a.Index == b.Index {
		return fmt.Sprintf("Still %s: %s before, %s after shuffling.", a.Name, Percent(float64(a.Prob)), Percent(c.Scr.Prob(k)))
	}
	return fmt.Sprintf("Now %s (%s); %s fell from %s to %s.", b.Name, Percent(float64(b.Prob)), a.Name,
		Percent(float64(a.Prob)), Percent(c.Scr.Prob(k)))
}
