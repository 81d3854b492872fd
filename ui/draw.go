package ui

import (
	"fmt"
	"github.com/bagnetweb/bagnet/geom"

	"github.com/vugu/vugu/js"

	"github.com/bagnetweb/bagnet/ui/viz"
)

// The pictures (overlays, evidence maps, patches) are drawn on canvases
// that vugu does not manage. On every render vugu sets each attribute the
// template gives and removes the others, and setting or removing a
// canvas's width or height clears it, even to the value it has: a canvas
// of the template would be blank after each render and need redrawing
// (a hover, a drag, a slider's move: over 30 ms for a 224-pixel model's
// overlay). So the template holds an empty host element (class "pic"),
// whose children vugu leaves alone, and the canvas lives inside it.

// canvasIn returns the canvas in host, adding one on first use.
func canvasIn(host js.Value) js.Value {
	if !host.Truthy() {
		return host
	}
	if c := host.Get("firstElementChild"); c.Truthy() && c.Get("tagName").String() == "CANVAS" {
		return c
	}
	c := js.Global().Get("document").Call("createElement", "canvas")
	host.Call("appendChild", c)
	return c
}

// putRGBA draws w x h RGBA pixels onto a canvas, resizing it to w x h,
// unless the canvas already shows the picture named key.
func putRGBA(canvas js.Value, key string, w, h int, rgba []byte) {
	if !canvas.Truthy() || w <= 0 || h <= 0 || len(rgba) < w*h*4 {
		return
	}
	if k := canvas.Get("bagnetKey"); k.Type() == js.TypeString && k.String() == key &&
		canvas.Get("width").Int() == w && canvas.Get("height").Int() == h {
		return
	}
	if canvas.Get("width").Int() != w {
		canvas.Set("width", w)
	}
	if canvas.Get("height").Int() != h {
		canvas.Set("height", h)
	}
	img := js.Global().Get("ImageData").New(w, h)
	js.CopyBytesToJS(img.Get("data"), rgba[:w*h*4])
	canvas.Call("getContext", "2d").Call("putImageData", img, 0, 0)
	canvas.Set("bagnetKey", key)
}

// picture is a cached RGBA image.
type picture struct {
	w, h int
	rgba []byte
}

// pictures caches the images drawn recently, by a key that names their
// content; it is emptied when it grows past maxPictures. Keys name an
// analysis by its id, which is never reused (request ids only grow), not by
// its address, which the garbage collector may give to a later analysis.
// Root owns the page's one cache and gives every analysis it makes a
// pointer to it (Analysis.pics); a nil cache caches nothing.
type pictures struct {
	m map[string]picture
}

const maxPictures = 96

// cached returns the picture for key, making it with mk when missing.
func (pc *pictures) cached(key string, mk func() (picture, error)) (picture, error) {
	if pc == nil {
		return mk()
	}
	if p, ok := pc.m[key]; ok {
		return p, nil
	}
	p, err := mk()
	if err != nil {
		return p, err
	}
	if pc.m == nil || len(pc.m) >= maxPictures {
		pc.m = map[string]picture{}
	}
	pc.m[key] = p
	return p, nil
}

// overlayScale: the overlay is drawn at least this many pixels wide, so the
// cells' central blocks land on whole pixels and the image stays crisp.
const overlayMinSide = 512

// DrawOverlay draws analysis a's model input with class k's evidence over
// it (colour range lim) in picture host.
func DrawOverlay(host js.Value, a *Analysis, k int, lim float32, opacity float64) {
	if a == nil {
		return
	}
	ev := a.Maps[k] // nil until it arrives: the image alone
	key := overlayKey(a, k, lim, opacity)
	p, err := a.pics.cached(key, func() (picture, error) {
		scale := viz.OverlayScale(a.Geo.Size, overlayMinSide)
		rgba, err := viz.Overlay(a.RGB, a.Geo, ev, lim, opacity, scale)
		return picture{a.Geo.Size * scale, a.Geo.Size * scale, rgba}, err
	})
	if err != nil {
		js.Global().Get("console").Call("error", err.Error())
		return
	}
	putRGBA(canvasIn(host), key, p.w, p.h, p.rgba)
}

// DrawMap draws class k's evidence map of a, one pixel per cell, in
// picture host.
func DrawMap(host js.Value, a *Analysis, k int, lim float32) {
	if a == nil || a.Maps[k] == nil {
		return
	}
	key := mapKey(a, k, lim)
	p, _ := a.pics.cached(key, func() (picture, error) {
		return picture{a.Geo.W, a.Geo.H, viz.MapImage(a.Maps[k], lim)}, nil
	})
	putRGBA(canvasIn(host), key, p.w, p.h, p.rgba)
}

// DrawPatch draws the model-input pixels of box b in picture host.
func DrawPatch(host js.Value, a *Analysis, b geom.Rect[int]) {
	if a == nil {
		return
	}
	key := patchKey(a, b)
	p, _ := a.pics.cached(key, func() (picture, error) {
		rgba, w, h := viz.Crop(a.RGB, a.Geo.Size, b)
		return picture{w, h, rgba}, nil
	})
	putRGBA(canvasIn(host), key, p.w, p.h, p.rgba)
}

// The cache keys of the pictures of analysis a.
func overlayKey(a *Analysis, k int, lim float32, opacity float64) string {
	return fmt.Sprintf("ov %d %d %g %.3f %t", a.ID, k, lim, opacity, a.Maps[k] != nil)
}

func mapKey(a *Analysis, k int, lim float32) string {
	return fmt.Sprintf("map %d %d %g %t", a.ID, k, lim, a.Maps[k] != nil)
}

func patchKey(a *Analysis, b geom.Rect[int]) string { return fmt.Sprintf("patch %d %v", a.ID, b) }
