package ui

import (
	"slices"
	"strconv"

	"github.com/vugu/vugu"
	"github.com/vugu/vugu/js"

	"github.com/bagnetweb/bagnet/protocol"
)

// ImageInput is where images come in: the drop zone (which takes model
// files too), the file chooser, the camera and the sample gallery. It hands
// what it gets to Root, which reads and classifies it; paste and drops
// anywhere on the page are hooked by Root.
type ImageInput struct {
	Busy    bool
	Samples []Sample
	Classes []protocol.Class    // the model's classes: samples of others are marked
	OnFile  func(file js.Value) // a File: an image or a .safetensors model
	OnPhoto func(blob js.Value) // a camera frame (PNG)
	Model   *protocol.Info      // the model in use (nil while loading): live mode's input size
	// OnLiveFrame sends a live camera frame to the worker (live.go).
	OnLiveFrame LiveFrameFunc
	OnSample    func(Sample)
	OnStatus    func(string)
	OnFail      func(string)

	Dragging bool // a file is dragged over the drop zone
	Camera   CameraState
	ee       vugu.EventEnv
}

// CameraState is the camera capture panel.
type CameraState struct {
	Available bool     // the browser offers getUserMedia
	Open      bool     // the preview is showing
	Stream    js.Value // the live MediaStream
	Live      LiveState
	video     js.Value
}

// Init notes whether the browser offers a camera.
func (c *ImageInput) Init(ctx vugu.InitCtx) {
	c.ee = ctx.EventEnv()
	if !js.Global().Truthy() {
		return
	}
	md := js.Global().Get("navigator").Get("mediaDevices")
	c.Camera.Available = md.Truthy() && md.Get("getUserMedia").Truthy()
}

func (c *ImageInput) open(f js.Value) {
	if c.OnFile != nil {
		c.OnFile(f)
	}
}

func (c *ImageInput) status(msg string) {
	if c.OnStatus != nil {
		c.OnStatus(msg)
	}
}

func (c *ImageInput) fail(msg string) {
	if c.OnFail != nil {
		c.OnFail(msg)
	}
}

// BusyAttr is aria-disabled of the controls that start work. They are not
// disabled outright: a disabled button loses the keyboard focus (to
// <body>) the moment its own Enter starts the work; a press while busy is
// ignored (PickSample) or answered ("Please wait…").
func (c *ImageInput) BusyAttr() string { return strconv.FormatBool(c.Busy) }

// OutOfSet reports whether sample s shows a class the model does not have
// (its file name's WordNet id is none of the model's class ids). Samples
// without an id, and models whose classes have no ids, are not marked.
func (c *ImageInput) OutOfSet(s Sample) bool {
	if s.WNID == "" || !slices.ContainsFunc(c.Classes, func(k protocol.Class) bool { return k.ID != "" }) {
		return false
	}
	return !slices.ContainsFunc(c.Classes, func(k protocol.Class) bool { return k.ID == s.WNID })
}

// OutOfSetAttr is data-oos: "true" for a sample outside the model's classes.
func (c *ImageInput) OutOfSetAttr(s Sample) any {
	if c.OutOfSet(s) {
		return "true"
	}
	return nil
}

// PickSample classifies a gallery picture.
func (c *ImageInput) PickSample(s Sample) {
	if c.OnSample != nil && !c.Busy {
		c.OnSample(s)
	}
}

// OnChoose handles input#file.
func (c *ImageInput) OnChoose(e vugu.DOMEvent) {
	input := e.JSEventTarget()
	files := input.Get("files")
	if !files.Truthy() || files.Length() == 0 {
		return
	}
	c.open(files.Index(0))
	input.Set("value", "") // choosing the same file again fires change again
}

// OnDragOver keeps the drop zone a drop target and highlights it.
func (c *ImageInput) OnDragOver(e vugu.DOMEvent) {
	e.PreventDefault()
	c.Dragging = true
}

// OnDragLeave removes the highlight.
func (c *ImageInput) OnDragLeave(e vugu.DOMEvent) { c.Dragging = false }

// OnDrop classifies the first dropped file.
func (c *ImageInput) OnDrop(e vugu.DOMEvent) {
	e.PreventDefault()
	c.Dragging = false
	dt := e.JSEvent().Get("dataTransfer")
	if !dt.Truthy() {
		return
	}
	files := dt.Get("files")
	if files.Truthy() && files.Length() > 0 {
		c.open(files.Index(0))
		return
	}
	c.fail("Drop an image file or a .safetensors model file (a link or text cannot be used here).")
}

// OnDropKey opens the file chooser from the keyboard.
func (c *ImageInput) OnDropKey(e vugu.DOMEvent) {
	switch e.PropString("key") {
	case "Enter", " ":
		e.PreventDefault()
		js.Global().Get("document").Call("getElementById", "file").Call("click")
	}
}

// OpenCamera asks for the camera and shows its preview.
func (c *ImageInput) OpenCamera() {
	if c.Camera.Open {
		return
	}
	md := js.Global().Get("navigator").Get("mediaDevices")
	constraints := js.Global().Get("JSON").Call("parse", `{"video":{"facingMode":"environment","width":{"ideal":1280}},"audio":false}`)
	c.status("Waiting for the camera…")
	go func() {
		stream, err := await(md.Call("getUserMedia", constraints))
		c.ee.Lock()
		defer c.ee.UnlockRender()
		if err != nil {
			c.fail("The camera is not available: " + err.Error())
			return
		}
		c.Camera.Open, c.Camera.Stream = true, stream
		c.status("Camera on. Press Capture to classify a frame.")
	}()
}

// AttachVideo connects the live stream to the preview element.
func (c *ImageInput) AttachVideo(v js.Value) {
	c.Camera.video = v
	if c.Camera.Stream.Truthy() && !v.Get("srcObject").Truthy() {
		setJS(v, "srcObject", c.Camera.Stream)
		v.Call("play")
	}
}

// CloseCamera stops live mode and the stream, releasing the camera.
func (c *ImageInput) CloseCamera() {
	c.stopLive()
	if c.Camera.Stream.Truthy() {
		tracks := c.Camera.Stream.Call("getTracks")
		for i := 0; i < tracks.Length(); i++ {
			tracks.Index(i).Call("stop")
		}
	}
	c.Camera = CameraState{Available: c.Camera.Available}
}

// Capture classifies the current camera frame (as a PNG).
func (c *ImageInput) Capture() {
	v := c.Camera.video
	if !v.Truthy() || c.Busy {
		return
	}
	w, h := v.Get("videoWidth").Int(), v.Get("videoHeight").Int()
	if w == 0 || h == 0 {
		c.status("The camera has no picture yet.")
		return
	}
	canvas := js.Global().Get("document").Call("createElement", "canvas")
	canvas.Set("width", w)
	canvas.Set("height", h)
	canvas.Call("getContext", "2d").Call("drawImage", v, 0, 0, w, h)
	c.CloseCamera()
	c.photo(canvas)
}

// photo classifies what canvas shows, as a PNG.
func (c *ImageInput) photo(canvas js.Value) {
	c.status("Classifying the photo…")
	ch := make(chan js.Value, 1)
	var f js.Func
	f = js.FuncOf(func(_ js.Value, a []js.Value) any {
		ch <- a[0]
		f.Release()
		return nil
	})
	canvas.Call("toBlob", f, "image/png")
	go func() {
		blob := <-ch
		c.ee.Lock()
		defer c.ee.UnlockRender()
		if c.OnPhoto != nil {
			c.OnPhoto(blob)
		}
	}()
}

// DropClass highlights the drop zone while a file is dragged over it.
func (c *ImageInput) DropClass() string {
	if c.Dragging {
		return "dropzone dragging"
	}
	return "dropzone"
}
