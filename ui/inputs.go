package ui

import (
	"fmt"
	"path"
	"strings"

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

// classifyBlob reads a File or Blob and classifies it. Called with the lock
// held; the reading happens in a goroutine.
func (c *Root) classifyBlob(label string, blob js.Value) {
	if c.InputBusy() { // a new image supersedes one being classified
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
	if c.InputBusy() {
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
		c.classifyBuffer(path.Base(s.File), buf) // its file name, like an upload's (and the CLI's "image")
	}()
}

// OnPhoto classifies a camera frame.
func (c *Root) OnPhoto(blob js.Value) { c.classifyBlob("the photo", blob) }

// SetStatus shows a message in the status line.
func (c *Root) SetStatus(msg string) { c.Status = msg }

// FailInput shows a problem with the user's input (the model in use stays;
// while it loads, the page keeps loading).
func (c *Root) FailInput(msg string) {
	c.State, c.Err, c.Status = StateError, msg, ""
	if c.Info == nil {
		c.State = StateLoading
	}
}
