package ui

import (
	"fmt"
	"path"
	"strconv"

	"github.com/vugu/vugu"
	"github.com/vugu/vugu/js"

	"github.com/bagnetweb/bagnet/patchset"
)

// PatchFigure is the paper's figure for the batch's folder: for a class
// of the model, the patches with the most evidence for it in its images,
// the distractors (the most evidence for it in images of other classes)
// and the patches most against it, each with its image's file name and
// evidence; a click opens the image in the full analysis with the patch
// outlined.
type PatchFigure struct {
	P        *PatchRun
	Busy     bool
	OnClass  func(int)
	OnOpen   func(*patchset.Hit)
	OnExport func()
}

// ClassOption is one entry of the class select.
type ClassOption struct {
	Value, Text string
	Selected    bool
}

// Options are every class of the model, the shown one selected.
func (c *PatchFigure) Options() []ClassOption {
	out := make([]ClassOption, len(c.P.classes))
	for k, cl := range c.P.classes {
		t := cl.Name
		if cl.ID != "" {
			t += " (" + cl.ID + ")"
		}
		out[k] = ClassOption{Value: strconv.Itoa(k), Text: t, Selected: k == c.P.Class}
	}
	return out
}

// OnSelect shows the chosen class.
func (c *PatchFigure) OnSelect(e vugu.DOMEvent) {
	if k, err := strconv.Atoi(e.JSEventTarget().Get("value").String()); err == nil && c.OnClass != nil {
		c.OnClass(k)
	}
}

// FigureSection is one row of the figure.
type FigureSection struct {
	ID, Title, Empty string
	Hits             []*patchset.Hit
}

// Sections are the rows shown: for, distractors (labelled folders only)
// and against.
func (c *PatchFigure) Sections() []FigureSection {
	rep := c.P.Report(c.P.Class)
	if rep == nil {
		return nil
	}
	name := rep.Class.Name
	where := name + " images"
	if !rep.Labelled {
		where = "all images"
	}
	out := []FigureSection{{ID: "pf-for", Title: fmt.Sprintf("For %s: the most evidence in %s", name, where), Empty: "No image of this class.", Hits: rep.For}}
	if rep.Labelled {
		out = append(out, FigureSection{ID: "pf-distractors", Title: fmt.Sprintf("Distractors: the most evidence for %s in images of other classes", name), Empty: "No image of another class.", Hits: rep.Distractors})
	}
	return append(out, FigureSection{ID: "pf-against", Title: fmt.Sprintf("Against %s: the most negative patches in %s", name, where), Empty: "No image of this class.", Hits: rep.Against})
}

// CountText says what the lists cover.
func (c *PatchFigure) CountText() string {
	rep := c.P.Report(c.P.Class)
	if rep == nil {
		return ""
	}
	s := fmt.Sprintf("Over %d images, at most %d patches a row and one per image, as bagnet patches shows them.", rep.Images, patchset.DefaultN)
	if rep.Errors > 0 {
		s += fmt.Sprintf(" %d could not be read.", rep.Errors)
	}
	if n := c.P.Pending(); n > 0 {
		s += fmt.Sprintf(" Cutting out the patches of %d more images…", n)
	}
	return s
}

// FileName is the base name of h's image.
func FileName(h *patchset.Hit) string { return path.Base(h.Image) }

// HitList is a row of patches of a figure (a PatchRun's lists): each
// patch's picture, its evidence and its image's file name (and, with
// Labels, the image's class); a click opens the image (OnOpen).
type HitList struct {
	ID     string // the list's element id
	P      *PatchRun
	Hits   []*patchset.Hit
	Labels bool
	OnOpen func(*patchset.Hit)
}

// Open opens h's image.
func (c *HitList) Open(h *patchset.Hit) {
	if c.OnOpen != nil {
		c.OnOpen(h)
	}
}

// HitLabel describes a patch button.
func HitLabel(h *patchset.Hit) string {
	return fmt.Sprintf("%s, patch at %s, evidence %s: open the image", h.Image, CellName(h.Cell[0], h.Cell[1]), Signed(float64(h.Evidence)))
}

// CellAttr is a patch button's data-cell: "i,j".
func CellAttr(h *patchset.Hit) string { return fmt.Sprintf("%d,%d", h.Cell[0], h.Cell[1]) }

// EvClass colours an evidence value.
func EvClass(h *patchset.Hit) string {
	if h.Evidence < 0 {
		return "num neg"
	}
	return "num pos"
}

// DrawHitTile draws the picture of h's patch in picture host (nothing
// until it has come).
func DrawHitTile(host js.Value, p *PatchRun, h *patchset.Hit) {
	t := p.Tile(h)
	if t == nil {
		return
	}
	putRGBA(canvasIn(host), "pf "+tileKey(h), t.Rect.Dx(), t.Rect.Dy(), t.Pix)
}
