package ui

import (
	"fmt"

	"github.com/vugu/vugu"
	"github.com/vugu/vugu/js"
)

// TeachNamed makes classes by name and adds images to each (a file input
// per class, many files at once), shows each class's count, removes a
// class and teaches them (NamedClasses).
type TeachNamed struct {
	N       *NamedClasses
	Busy    bool
	OnTeach func()

	ee vugu.EventEnv
}

// Init keeps the event environment for the camera frames (made
// asynchronously).
func (c *TeachNamed) Init(ctx vugu.InitCtx) { c.ee = ctx.EventEnv() }

// OnDraft follows the class name being typed.
func (c *TeachNamed) OnDraft(e vugu.DOMEvent) { c.N.Draft = e.PropString("target", "value") }

// OnSet follows the set's name.
func (c *TeachNamed) OnSet(e vugu.DOMEvent) { c.N.Set = e.PropString("target", "value") }

// OnAddClass adds a class named as the draft says (Enter or the button).
func (c *TeachNamed) OnAddClass(e vugu.DOMEvent) {
	e.PreventDefault()
	if err := c.N.AddClass(c.N.Draft); err != nil {
		c.N.Note = err.Error()
		return
	}
	c.N.Draft, c.N.Note = "", ""
	// vugu sets the attribute, not what was typed: clear the field itself.
	if in := js.Global().Get("document").Call("getElementById", "teach-class-name"); in.Truthy() {
		in.Set("value", "")
	}
}

// OnFiles adds the chosen files to class i.
func (c *TeachNamed) OnFiles(i int, e vugu.DOMEvent) {
	input := e.JSEventTarget()
	files := input.Get("files")
	if !files.Truthy() || files.Length() == 0 {
		return
	}
	names := make([]string, files.Length())
	list := make([]js.Value, files.Length())
	for k := range names {
		list[k] = files.Index(k)
		names[k] = list[k].Get("name").String()
	}
	_, c.N.Note = c.N.AddFiles(i, names, list)
	input.Set("value", "")
}

// OnRemove removes class i.
func (c *TeachNamed) OnRemove(i int) {
	if !c.Busy {
		c.N.RemoveClass(i)
		c.N.Note = ""
	}
}

// Teach teaches the classes.
func (c *TeachNamed) Teach() {
	if c.OnTeach != nil && !c.Busy {
		c.OnTeach()
	}
}

// CountText is "4 images".
func CountText(cl *NamedClass) string {
	return fmt.Sprintf("%d %s", len(cl.Names), plural(len(cl.Names), "image", "images"))
}

// CameraLabel is the accessible name of class cl's camera button.
func CameraLabel(cl *NamedClass) string { return "Add the camera's frame to " + cl.Name }

// FilesID is the id of class cl's file input.
func FilesID(cl *NamedClass) string { return "teach-files-" + cl.ID }

// OnCameraFrame adds the current frame of the camera (opened with "Use
// the camera") to class i, as a PNG file named camera-NNN.png.
func (c *TeachNamed) OnCameraFrame(i int) {
	if i < 0 || i >= len(c.N.Classes) {
		return
	}
	cl := c.N.Classes[i]
	v := js.Global().Get("document").Call("querySelector", ".camera video")
	if !v.Truthy() || v.Get("videoWidth").Int() == 0 || v.Get("videoHeight").Int() == 0 {
		c.N.Note = "The camera is not on: press \"Use the camera\" above, then add its frame to a class."
		return
	}
	w, h := v.Get("videoWidth").Int(), v.Get("videoHeight").Int()
	canvas := js.Global().Get("document").Call("createElement", "canvas")
	canvas.Set("width", w)
	canvas.Set("height", h)
	canvas.Call("getContext", "2d").Call("drawImage", v, 0, 0, w, h)
	name := cl.cameraName()
	var f js.Func
	f = js.FuncOf(func(_ js.Value, a []js.Value) any {
		f.Release()
		blob := a[0]
		go func() {
			c.ee.Lock()
			defer c.ee.UnlockRender()
			if !blob.Truthy() {
				c.N.Note = cl.Name + ": the camera's frame could not be encoded."
				return
			}
			opts := js.Global().Get("Object").New()
			opts.Set("type", "image/png")
			file := js.Global().Get("File").New(js.Global().Get("Array").Call("of", blob), name, opts)
			if k := c.N.index(cl); k >= 0 { // the class may have been removed meanwhile
				_, c.N.Note = c.N.AddFiles(k, []string{name}, []js.Value{file})
			}
		}()
		return nil
	})
	canvas.Call("toBlob", f, "image/png")
}
