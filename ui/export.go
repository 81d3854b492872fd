package ui

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"

	"github.com/vugu/vugu/js"

	"github.com/bagnetweb/bagnet/heatmap"
	"github.com/bagnetweb/bagnet/ui/viz"
)

// Export: the shown heatmap as a PNG with its legend, and the result as
// the JSON object `bagnet classify -json` prints. Both are made here and
// saved through a blob: URL; nothing leaves the device.

// ExportResult is the JSON of the current analysis: protocol.Result with
// "image" set to where the image came from, like `bagnet classify -json`.
func (c *Root) ExportResult() ([]byte, error) {
	if c.Cur == nil {
		return nil, fmt.Errorf("nothing classified yet")
	}
	r := c.Cur.Result
	r.Image = c.Cur.Label
	return json.Marshal(r)
}

// publishResult sets window.bagnetResult, for scripts and tests, to a's
// result with Image set to where the image came from: the object `bagnet
// classify -json` prints for the same file. It returns that object.
func publishResult(a *Analysis) js.Value {
	a.Result.Image = a.Label
	res := toJS(a.Result)
	setJS(js.Global(), "bagnetResult", res)
	return res
}

// ExportPicture is the overlay of the shown class's evidence with a legend
// strip below it (heatmap.Legend, as `bagnet heatmap` draws), RGBA.
func (c *Root) ExportPicture() (rgba []byte, w, h int, err error) {
	a, k := c.Cur, c.Selected()
	if a == nil || a.Maps[k] == nil {
		return nil, 0, 0, fmt.Errorf("the evidence map has not arrived yet")
	}
	ev, lim := a.Maps[k], c.SelLimit()
	scale := viz.OverlayScale(a.Geo.Size, overlayMinSide)
	over, err := viz.Overlay(a.RGB, a.Geo, ev, lim, c.Opacity, scale)
	if err != nil {
		return nil, 0, 0, err
	}
	w = a.Geo.Size * scale
	lo, hi := ev[0], ev[0]
	for _, v := range ev {
		lo, hi = min(lo, v), max(hi, v)
	}
	leg := heatmap.Legend(w, lim, lo, hi, "evidence for "+c.ClassName(k)+" - "+a.Label)
	h = w + leg.Rect.Dy()
	rgba = append(over, leg.Pix...) // both are w pixels wide, 4 bytes a pixel, no padding
	return rgba, w, h, nil
}

// exportName is a file name for an export of the current analysis.
func (c *Root) exportName(what, ext string) string {
	stem := strings.TrimSuffix(c.Cur.Label, path.Ext(c.Cur.Label))
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r == '-' || r == '_' || r == '.' || ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') {
				return r
			}
			return '_'
		}, s)
	}
	return clean(stem) + "-" + clean(what) + ext
}

// OnExportJSON saves the result as JSON.
func (c *Root) OnExportJSON() {
	b, err := c.ExportResult()
	if err != nil {
		c.Status = "Cannot export: " + err.Error()
		return
	}
	saveBytes(b, "application/json", c.exportName("result", ".json"))
	c.Status = "Saved the result as JSON."
}

// OnExportPNG saves the heatmap with its legend as a PNG.
func (c *Root) OnExportPNG() {
	rgba, w, h, err := c.ExportPicture()
	if err != nil {
		c.Status = "Cannot export: " + err.Error()
		return
	}
	canvas := js.Global().Get("document").Call("createElement", "canvas")
	putRGBA(canvas, "export", w, h, rgba)
	name := c.exportName("evidence-"+c.ClassName(c.Selected()), ".png")
	var f js.Func
	f = js.FuncOf(func(_ js.Value, args []js.Value) any {
		f.Release()
		if len(args) > 0 && args[0].Truthy() {
			save(args[0], name)
		}
		return nil
	})
	canvas.Call("toBlob", f, "image/png")
	c.Status = "Saved the heatmap as PNG."
}

// saveBytes offers b, of media type mime, as a download named name.
func saveBytes(b []byte, mime, name string) {
	u8 := js.Global().Get("Uint8Array").New(len(b))
	js.CopyBytesToJS(u8, b)
	opts := js.Global().Get("Object").New()
	opts.Set("type", mime)
	save(js.Global().Get("Blob").New(js.Global().Get("Array").Call("of", u8), opts), name)
}

// save offers blob as a download named name.
func save(blob js.Value, name string) {
	url := js.Global().Get("URL").Call("createObjectURL", blob)
	a := js.Global().Get("document").Call("createElement", "a")
	setJS(a, "href", url)
	a.Set("download", name)
	a.Call("click")
	// Revoke once the download has started.
	var f js.Func
	f = js.FuncOf(func(js.Value, []js.Value) any {
		js.Global().Get("URL").Call("revokeObjectURL", url)
		f.Release()
		return nil
	})
	js.Global().Call("setTimeout", f, 10000)
}
