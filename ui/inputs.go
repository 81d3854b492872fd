package ui

import (
	"fmt"
	"strings"

	"github.com/vugu/vugu"
	"github.com/vugu/vugu/js"
)

// MaxFileBytes bounds the image files the page reads (the decoder also
// refuses images over 50 megapixels).
const MaxFileBytes = 64 << 20

// MaxModelBytes bounds the model files the page reads (the full-size
// BagNet-33 is about 18 MB as int8 and 70 MB as float32).
const MaxModelBytes = 1 << 30

// isModelFile reports whether a dropped or chosen file is a model: its name
// ends in .safetensors (what bagnet convert writes).
func isModelFile(f js.Value) bool {
	n := f.Get("name")
	return n.Type() == js.TypeString && strings.HasSuffix(strings.ToLower(n.String()), ".safetensors")
}

// openFile loads a model file or classifies an image file.
func (c *Root) openFile(f js.Value) {
	if isModelFile(f) {
		c.loadModelBlob(fileLabel(f), f)
		return
	}
	c.classifyBlob(fileLabel(f), f)
}

// loadModelBlob reads a model file and hands it to the worker. Called with
// the lock held; the reading happens in a goroutine.
func (c *Root) loadModelBlob(label string, blob js.Value) {
	if c.Busy() {
		c.Status = "Please wait for the current work to finish."
		return
	}
	c.readBlob("model file", label, blob, MaxModelBytes, c.loadModelBuffer)
}

// readBlob reads a File or Blob of at most limit bytes in a goroutine and
// hands its ArrayBuffer to then (with the lock held); a blob that is too
// big or empty is an error naming it. Called with the lock held.
func (c *Root) readBlob(what, label string, blob js.Value, limit int64, then func(label string, buf js.Value)) {
	size := int64(blob.Get("size").Float())
	switch {
	case size > limit:
		c.State, c.Err = StateError, fmt.Sprintf("%s is %s: %ss over %s are not read.", label, Bytes(size), what, Bytes(limit))
		return
	case size == 0:
		c.State, c.Err = StateError, label+" is empty."
		return
	}
	c.State, c.Err, c.Status = StateWorking, "", "Reading "+label+"…"
	go func() {
		buf, err := await(blob.Call("arrayBuffer"))
		c.ee.Lock()
		defer c.ee.UnlockRender()
		if err != nil {
			c.State, c.Err = StateError, "Could not read "+label+": "+err.Error()
			return
		}
		then(label, buf)
	}()
}

// await blocks the calling goroutine (never an event handler: they hold the
// render lock) until the promise settles.
func await(p js.Value) (js.Value, error) {
	type settled struct {
		v   js.Value
		err error
	}
	ch := make(chan settled, 1)
	ok := js.FuncOf(func(_ js.Value, a []js.Value) any { ch <- settled{v: a[0]}; return nil })
	bad := js.FuncOf(func(_ js.Value, a []js.Value) any {
		msg := "failed"
		if len(a) > 0 {
			msg = a[0].Call("toString").String()
		}
		ch <- settled{err: fmt.Errorf("%s", msg)}
		return nil
	})
	defer ok.Release()
	defer bad.Release()
	js.Global().Get("Promise").Call("resolve", p).Call("then", ok, bad)
	r := <-ch
	return r.v, r.err
}

// classifyBlob reads a File or Blob and classifies it. Called with the lock
// held; the reading happens in a goroutine.
func (c *Root) classifyBlob(label string, blob js.Value) {
	if c.Busy() {
		c.Status = "Please wait for the current image to finish."
		if c.Info == nil {
			c.Status = "Please wait until the model has loaded."
		}
		return
	}
	if !blob.Truthy() {
		c.State, c.Err = StateError, "No file was given."
		return
	}
	c.readBlob("image file", label, blob, MaxFileBytes, c.classifyBuffer)
}

// fileLabel names a File for messages.
func fileLabel(f js.Value) string {
	if n := f.Get("name"); n.Type() == js.TypeString && n.String() != "" {
		return n.String()
	}
	return "the image"
}

// OnFile handles input#file.
func (c *Root) OnFile(e vugu.DOMEvent) {
	input := e.JSEventTarget()
	files := input.Get("files")
	if !files.Truthy() || files.Length() == 0 {
		return
	}
	c.openFile(files.Index(0))
	input.Set("value", "") // choosing the same file again fires change again
}

// OnDragOver keeps the drop zone a drop target and highlights it.
func (c *Root) OnDragOver(e vugu.DOMEvent) {
	e.PreventDefault()
	c.Dragging = true
}

// OnDragLeave removes the highlight.
func (c *Root) OnDragLeave(e vugu.DOMEvent) { c.Dragging = false }

// OnDrop classifies the first dropped file.
func (c *Root) OnDrop(e vugu.DOMEvent) {
	e.PreventDefault()
	c.Dragging = false
	dt := e.JSEvent().Get("dataTransfer")
	if !dt.Truthy() {
		return
	}
	files := dt.Get("files")
	if files.Truthy() && files.Length() > 0 {
		c.openFile(files.Index(0))
		return
	}
	c.State, c.Err = StateError, "Drop an image file or a .safetensors model file (a link or text cannot be used here)."
}

// OnDropKey opens the file chooser from the keyboard.
func (c *Root) OnDropKey(e vugu.DOMEvent) {
	switch e.PropString("key") {
	case "Enter", " ":
		e.PreventDefault()
		js.Global().Get("document").Call("getElementById", "file").Call("click")
	}
}

// hookPaste classifies images pasted anywhere on the page.
func (c *Root) hookPaste() {
	f := js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) == 0 {
			return nil
		}
		cd := args[0].Get("clipboardData")
		if !cd.Truthy() {
			return nil
		}
		files := cd.Get("files")
		if !files.Truthy() || files.Length() == 0 {
			return nil
		}
		file := files.Index(0)
		if !strings.HasPrefix(file.Get("type").String(), "image/") {
			return nil
		}
		args[0].Call("preventDefault")
		go func() {
			c.ee.Lock()
			defer c.ee.UnlockRender()
			c.classifyBlob("the pasted image", file)
		}()
		return nil
	})
	c.funcs = append(c.funcs, f)
	js.Global().Get("document").Call("addEventListener", "paste", f)
}

// hookWindowDrop makes a file dropped anywhere on the page count as a drop
// on the drop zone, instead of the browser leaving the page to show it.
func (c *Root) hookWindowDrop() {
	over := js.FuncOf(func(_ js.Value, args []js.Value) any {
		args[0].Call("preventDefault")
		return nil
	})
	drop := js.FuncOf(func(_ js.Value, args []js.Value) any {
		e := args[0]
		if e.Get("defaultPrevented").Bool() { // the drop zone took it
			return nil
		}
		e.Call("preventDefault")
		files := e.Get("dataTransfer").Get("files")
		if !files.Truthy() || files.Length() == 0 {
			return nil
		}
		f := files.Index(0)
		go func() {
			c.ee.Lock()
			defer c.ee.UnlockRender()
			c.openFile(f)
		}()
		return nil
	})
	c.funcs = append(c.funcs, over, drop)
	w := js.Global()
	w.Call("addEventListener", "dragover", over)
	w.Call("addEventListener", "drop", drop)
}

// loadSamples reads the gallery's index.
func (c *Root) loadSamples(url string) {
	var list []Sample
	resp, err := await(js.Global().Call("fetch", url))
	if err == nil && resp.Get("ok").Bool() {
		var v js.Value
		if v, err = await(resp.Call("json")); err == nil {
			err = decode(v, &list)
		}
	}
	c.ee.Lock()
	defer c.ee.UnlockRender()
	if err != nil {
		js.Global().Get("console").Call("warn", "samples: "+err.Error())
	}
	c.Samples = list
}

// OnSample classifies a gallery picture.
func (c *Root) OnSample(s Sample) {
	if c.Busy() {
		return
	}
	c.State, c.Err, c.Status = StateWorking, "", "Loading "+s.Name+"…"
	go func() {
		resp, err := await(js.Global().Call("fetch", s.File))
		var buf js.Value
		if err == nil && !resp.Get("ok").Bool() {
			err = fmt.Errorf("HTTP %d", resp.Get("status").Int())
		}
		if err == nil {
			buf, err = await(resp.Call("arrayBuffer"))
		}
		c.ee.Lock()
		defer c.ee.UnlockRender()
		if err != nil {
			c.State, c.Err = StateError, "Could not load the sample "+s.Name+": "+err.Error()
			return
		}
		c.classifyBuffer(s.Name, buf)
	}()
}

// OpenCamera asks for the camera and shows its preview.
func (c *Root) OpenCamera() {
	if c.Camera.Open {
		return
	}
	md := js.Global().Get("navigator").Get("mediaDevices")
	constraints := js.Global().Get("JSON").Call("parse", `{"video":{"facingMode":"environment","width":{"ideal":1280}},"audio":false}`)
	c.Status = "Waiting for the camera…"
	go func() {
		stream, err := await(md.Call("getUserMedia", constraints))
		c.ee.Lock()
		defer c.ee.UnlockRender()
		if err != nil {
			c.Status = ""
			c.State, c.Err = StateError, "The camera is not available: "+err.Error()
			if c.Info == nil {
				c.State = StateLoading
			}
			return
		}
		c.Camera.Open, c.Camera.Stream = true, stream
		c.Status = "Camera on. Press Capture to classify a frame."
	}()
}

// AttachVideo connects the live stream to the preview element.
func (c *Root) AttachVideo(v js.Value) {
	c.Camera.video = v
	if c.Camera.Stream.Truthy() && !v.Get("srcObject").Truthy() {
		setJS(v, "srcObject", c.Camera.Stream)
		v.Call("play")
	}
}

// CloseCamera stops the stream.
func (c *Root) CloseCamera() {
	if c.Camera.Stream.Truthy() {
		tracks := c.Camera.Stream.Call("getTracks")
		for i := 0; i < tracks.Length(); i++ {
			tracks.Index(i).Call("stop")
		}
	}
	c.Camera = CameraState{Available: c.Camera.Available}
}

// Capture classifies the current camera frame (as a PNG).
func (c *Root) Capture() {
	v := c.Camera.video
	if !v.Truthy() || c.Busy() {
		return
	}
	w, h := v.Get("videoWidth").Int(), v.Get("videoHeight").Int()
	if w == 0 || h == 0 {
		c.Status = "The camera has no picture yet."
		return
	}
	canvas := js.Global().Get("document").Call("createElement", "canvas")
	canvas.Set("width", w)
	canvas.Set("height", h)
	canvas.Call("getContext", "2d").Call("drawImage", v, 0, 0, w, h)
	c.CloseCamera()
	c.State, c.Status = StateWorking, "Classifying the photo…"
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
		c.State = StateReady // let classifyBlob start
		c.classifyBlob("the photo", blob)
		c.ee.UnlockRender()
	}()
}
