package ui

import (
	"fmt"

	"github.com/vugu/vugu/js"
)

// After teaching, the page can show what each taught class learned: its
// most evidential patches in its own images. It runs the taught folder
// through the model in use (the taught one) as a folder batch, whose
// figure (PatchFigure) gives, for each class picked, the patches with the
// most evidence for it in its images, the distractors and those against
// it: 'bagnet patches' with the taught model file. The page kept the
// folder's File handles for that, not the images.

// taughtFiles are the File handles of a teaching's folder.
type taughtFiles struct {
	t     *Teaching
	files js.Value // an Array of File, each with its path in the folder
}

// keepTaughtFiles keeps the handles of teaching t's files (paths, in
// byPath) for ShowTaughtPatches.
func (c *Root) keepTaughtFiles(t *Teaching, paths []string, byPath map[string]js.Value) {
	arr := js.Global().Get("Array").New()
	for _, p := range paths {
		arr.Call("push", byPath[p])
	}
	c.taught = &taughtFiles{t: t, files: arr}
}

// CanShowTaught reports whether the last teaching succeeded and its files
// are at hand.
func (c *Root) CanShowTaught() bool {
	return c.taught != nil && c.Teach == c.taught.t && c.Teach.Reply != nil && !c.Teach.Running
}

// TaughtText says what ShowTaughtPatches does.
func (c *Root) TaughtText() string {
	return fmt.Sprintf("What did each class of %q learn, the object or the background? Classify the images of %s with the model in use and see each class's most evidential patches in its own images (above, under \"Many images at once\").",
		c.taught.t.Name, c.taught.t.Folder)
}

// ShowTaughtPatches classifies the taught folder's images as a folder
// batch, with its figure of most evidential patches.
func (c *Root) ShowTaughtPatches() {
	if !c.CanShowTaught() {
		return
	}
	c.StartBatch(c.taught.files)
	if el := js.Global().Get("document").Call("getElementById", "batch"); el.Truthy() {
		el.Call("scrollIntoView")
	}
}

// TaughtPatches is the button that shows what each taught class learned.
type TaughtPatches struct {
	Text   string
	Busy   bool
	OnShow func()
}
