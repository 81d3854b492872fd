package ui

import (
	"fmt"
	"slices"

	"github.com/bagnetweb/bagnet/ui/viz"
)

// OcclusionPanel lets the user paint grey rectangles over the image and
// shows what each edit changed: the scores of the top classes before and
// after, and how many patches were recomputed (the rest provably kept their
// evidence, and the panel checks it on the maps it has). Root owns the
// edits (they are worker results); the panel owns its patch cursor.
type OcclusionPanel struct {
	Base      *Analysis   // the original image
	Edits     []*Analysis // one per edit, in order
	Class     int         // the class whose evidence is shown
	ClassName func(int) string
	Opacity   float64
	Busy      bool
	OnPaint   func([4]int)
	OnUndo    func()
	OnReset   func()

	Hover Cell
}

// Shown is the image with every edit so far.
func (c *OcclusionPanel) Shown() *Analysis {
	if n := len(c.Edits); n > 0 {
		return c.Edits[n-1]
	}
	return c.Base
}

// Limit is the colour range shared with the original, so colours compare.
func (c *OcclusionPanel) Limit() float32 {
	return viz.Limit(c.Base.Maps[c.Class], c.Shown().Maps[c.Class])
}

// SetHover moves the panel's own patch cursor.
func (c *OcclusionPanel) SetHover(h Cell) {
	if a := c.Shown(); a != nil && h.OK {
		h.I, h.J = max(0, min(a.Geo.H-1, h.I)), max(0, min(a.Geo.W-1, h.J))
	}
	c.Hover = h
}

// Paint asks for an edit (even while busy: Root holds it until it is free).
func (c *OcclusionPanel) Paint(r [4]int) {
	if c.OnPaint != nil {
		c.OnPaint(r)
	}
}

// OcclusionRow is one class's score before and after the edits.
type OcclusionRow struct {
	Name, Before, After, Delta, DeltaClass string
}

// Rows compares the top classes of the original (and the shown class).
func (c *OcclusionPanel) Rows() []OcclusionRow {
	a, b := c.Base, c.Shown()
	var ks []int
	for _, p := range a.Result.Top {
		ks = append(ks, p.Index)
	}
	if !slices.Contains(ks, c.Class) && c.Class >= 0 {
		ks = append(ks, c.Class)
	}
	var out []OcclusionRow
	for _, k := range ks {
		if k >= len(a.Result.Logits) || k >= len(b.Result.Logits) {
			continue
		}
		d := b.Result.Logits[k] - a.Result.Logits[k]
		cls := "num"
		switch {
		case d > 0:
			cls = "num pos"
		case d < 0:
			cls = "num neg"
		}
		out = append(out, OcclusionRow{
			Name:   c.ClassName(k),
			Before: fmt.Sprintf("%s (%s)", Signed(float64(a.Result.Logits[k])), Percent(a.Prob(k))),
			After:  fmt.Sprintf("%s (%s)", Signed(float64(b.Result.Logits[k])), Percent(b.Prob(k))),
			Delta:  Signed(float64(d)), DeltaClass: cls,
		})
	}
	return out
}

// Unchanged counts, for the last edit, the patches outside the recomputed
// block whose evidence for the shown class equals the previous image's:
// equal of total (total 0 when a map is missing).
func (c *OcclusionPanel) Unchanged() (equal, total int) {
	n := len(c.Edits)
	if n == 0 {
		return 0, 0
	}
	cur, prev := c.Edits[n-1], c.Base
	if n > 1 {
		prev = c.Edits[n-2]
	}
	o := cur.Occlusion
	m0, m1 := prev.Maps[c.Class], cur.Maps[c.Class]
	if o == nil || m0 == nil || m1 == nil || len(m0) != len(m1) {
		return 0, 0
	}
	w := cur.Geo.W
	for at := range m1 {
		i, j := at/w, at%w
		if i >= o.Rows[0] && i < o.Rows[1] && j >= o.Cols[0] && j < o.Cols[1] {
			continue
		}
		total++
		if m0[at] == m1[at] {
			equal++
		}
	}
	return equal, total
}

// EditText says what the last edit recomputed and checks the rest.
func (c *OcclusionPanel) EditText() string {
	n := len(c.Edits)
	if n == 0 {
		return "No edits yet: the scores are the original image's."
	}
	o := c.Edits[n-1].Occlusion
	if o == nil {
		return ""
	}
	s := fmt.Sprintf("Edit %d: grey over pixels %d–%d × %d–%d of the model input. Recomputed %d of %d patches (rows %d–%d, columns %d–%d) in %s%s.",
		n, o.Rect[0], o.Rect[2]-1, o.Rect[1], o.Rect[3]-1, o.Recomputed, o.Cells, o.Rows[0], o.Rows[1]-1, o.Cols[0], o.Cols[1]-1,
		Ms(c.Edits[n-1].Timings.InferMs), onWorkers(o.Workers))
	if eq, tot := c.Unchanged(); tot > 0 {
		s += fmt.Sprintf(" The other %d patches' evidence for %s: %d of %d unchanged.", tot, c.ClassName(c.Class), eq, tot)
	}
	return s
}

// onWorkers says how many workers shared a recomputation, when more than one.
func onWorkers(n int) string {
	if n > 1 {
		return fmt.Sprintf(" on %d workers", n)
	}
	return ""
}
