package ui

import (
	"fmt"

	"github.com/vugu/vugu"
	"github.com/vugu/vugu/js"

	"github.com/bagnetweb/bagnet/patchset"
)

// TeachPanel chooses a labelled folder to teach the model its classes,
// shows the progress, the held-out accuracy per class and overall, and
// offers the taught model file.
type TeachPanel struct {
	T       *Teaching
	Busy    bool
	Prior   bool // the model in use carries a feature prior
	OnFiles func(files js.Value)
	OnSave  func()

	Named        *NamedClasses // classes made by name (teach-named.vugu)
	OnTeachNamed func()

	R               *TaughtRun // what each taught class learned (taughtpatches.go)
	OnCancelPatches func()
	OnOpenPatch     func(k int, h *patchset.Hit)

	folderDrop // a folder dropped on the panel (drop.go)
}

// BusyAttr is aria-disabled.
func (c *TeachPanel) BusyAttr() string { return fmt.Sprint(c.Busy) }

// OnChoose teaches the chosen folder.
func (c *TeachPanel) OnChoose(e vugu.DOMEvent) { takeChosen(e, c.OnFiles) }

// OnDrop teaches a dropped folder.
func (c *TeachPanel) OnDrop(e vugu.DOMEvent) {
	c.takeDrop(e, c.Busy || (c.T != nil && c.T.Running), c.OnFiles)
}

// ProgressText says how far the features are.
func (c *TeachPanel) ProgressText() string {
	t := c.T
	s := fmt.Sprintf("%s: %d classes, features of %d / %d images", t.Folder, len(t.Classes), t.Done, len(t.Items))
	if t.Failed > 0 {
		s += fmt.Sprintf(" (%d could not be used)", t.Failed)
	}
	if !t.Running && t.Reply != nil {
		s += fmt.Sprintf("; taught in %.1f s (training %.1f s)", t.Elapsed/1000, t.TrainMs/1000)
	}
	return s
}

// CanSave reports whether a taught model file is there.
func (c *TeachPanel) CanSave() bool { return c.T != nil && c.T.File.Truthy() }

// AccuracyText is the overall held-out accuracy.
func (c *TeachPanel) AccuracyText() string {
	r := c.T.Reply
	if r == nil || r.Folds == 0 || r.Images == 0 {
		return "No held-out accuracy (every class has only one usable image)."
	}
	return fmt.Sprintf("%d-fold held-out accuracy: %s (%d of %d images)", r.Folds, Percent(float64(r.Correct)/float64(r.Images)), r.Correct, r.Images)
}

// ClassRows are the per-class lines: id, name, images, correct, accuracy.
func (c *TeachPanel) ClassRows() [][5]string {
	r := c.T.Reply
	var rows [][5]string
	for i, cl := range c.T.Classes {
		row := [5]string{cl.ID, cl.Name, "", "", "-"}
		if r != nil && i < len(r.PerClass) {
			s := r.PerClass[i]
			row[2], row[3] = fmt.Sprint(s.Images), fmt.Sprint(s.Correct)
			if s.Images > 0 {
				row[4] = Percent(float64(s.Correct) / float64(s.Images))
			}
		}
		rows = append(rows, row)
	}
	return rows
}

// FailedItems are the images that could not be used.
func (c *TeachPanel) FailedItems() []*TeachItem {
	var out []*TeachItem
	for _, it := range c.T.Items {
		if it.Err != "" {
			out = append(out, it)
		}
	}
	return out
}
