package main

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"
	"time"

	"github.com/bagnetweb/bagnet/engine"
	"github.com/bagnetweb/bagnet/geom"
	"github.com/bagnetweb/bagnet/heatmap"
	"github.com/bagnetweb/bagnet/patchset"
	"github.com/bagnetweb/bagnet/preprocess"
	"github.com/bagnetweb/bagnet/protocol"
)

// The page's figure of the most evidential patches of a folder (package
// patchset, as 'bagnet patches'): each classified image of a batch gives
// its candidate cells of every class, taken from the evidence maps the
// classification computes anyway; the page asks for the pictures of the
// final patches only, by image (crops).

// maxPatchesPerImage bounds ClassifyRequest.Patches (bagnet patches
// -per-image has no bound, but the page asks for 1).
const maxPatchesPerImage = 64

// patchCandidates are analysis a's candidates for every class, k a list
// (m's maps are reused: they are every class's when the model has few).
func (w *worker) patchCandidates(a *engine.Analysis, m *resultMsg, k int) (*protocol.PatchCandidates, error) {
	if k < 1 || k > maxPatchesPerImage {
		return nil, fmt.Errorf("patches %d per image: want 1 to %d", k, maxPatchesPerImage)
	}
	var all [][]float32
	if len(m.Maps) < len(a.Logits) { // a model with many classes: all its maps in one pass
		var err error
		if all, err = a.EvidenceAll(); err != nil {
			return nil, err
		}
	}
	return patchset.Wire(len(a.Logits), k, func(c int) ([]float32, error) {
		if ev, ok := m.Maps[c]; ok {
			return ev, nil
		}
		return all[c], nil
	})
}

// Bounds of a CropsRequest.
const (
	maxCrops    = 1000
	minCropTile = 16  // bagnet patches -tile's range
	maxCropTile = 512 //
)

// maxPNGSide bounds a PNGRequest's width and height.
const maxPNGSide = 1 << 14

// encodePNG is the PNG file of w x h RGBA pixels, as image/png encodes an
// *image.RGBA ('bagnet patches -o' writes the figure so).
func encodePNG(w, h int, pix []byte) ([]byte, error) {
	if w < 1 || h < 1 || w > maxPNGSide || h > maxPNGSide {
		return nil, fmt.Errorf("png: %dx%d pixels: want 1 to %d a side", w, h, maxPNGSide)
	}
	if len(pix) != w*h*4 {
		return nil, fmt.Errorf("png: %d bytes for %dx%d RGBA pixels, want %d", len(pix), w, h, w*h*4)
	}
	img := &image.RGBA{Pix: pix, Stride: 4 * w, Rect: image.Rect(0, 0, w, h)}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("png: %v", err)
	}
	return buf.Bytes(), nil
}

// crops decodes an encoded image as 'bagnet patches' does and resamples
// each box of it (image pixels) to tile x tile RGBA pixels
// (heatmap.Crop), one tile after another.
func crops(img []byte, boxes [][4]float64, tile int) ([]byte, error) {
	if tile < minCropTile || tile > maxCropTile {
		return nil, fmt.Errorf("crops: tile %d out of range [%d, %d]", tile, minCropTile, maxCropTile)
	}
	if len(boxes) == 0 || len(boxes) > maxCrops {
		return nil, fmt.Errorf("crops: %d boxes, want 1 to %d", len(boxes), maxCrops)
	}
	for _, b := range boxes {
		for _, v := range b {
			if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > 1e7 {
				return nil, errors.New("crops: a box with a coordinate that is not a finite pixel position")
			}
		}
	}
	src, _, err := preprocess.Decode(img)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(boxes)*tile*tile*4)
	for _, b := range boxes {
		t := heatmap.Crop(src, geom.Rect[float64]{X0: b[0], Y0: b[1], X1: b[2], Y1: b[3]}, tile, tile)
		out = append(out, t.Pix...)
	}
	return out, nil
}

// patcher computes the results of whole images elsewhere for a
// PatchesRequest: a band worker with its own copy of the model (js/wasm).
type patcher interface {
	// patches starts computing the result of an encoded image; wait
	// gives it, or an error, by due at the latest.
	patches(img []byte, topK, k int, due time.Time) (wait func() (protocol.PatchesImage, error))
}

// patchesOne is an encoded image's result for a PatchesRequest, computed
// here alone: the top classes and patch candidates a classify with them
// (ClassifyRequest.Patches) gives, from the same maps.
func (w *worker) patchesOne(img []byte, topK, k int, ms func() float64) (protocol.PatchesImage, error) {
	var out protocol.PatchesImage
	switch {
	case w.eng == nil:
		return out, errNoModel
	case w.eng.Int8 == nil:
		return out, errors.New("patches: the model in use is a float32 model: want an int8 model")
	case k < 1 || k > maxPatchesPerImage:
		return out, fmt.Errorf("patches %d per image: want 1 to %d", k, maxPatchesPerImage)
	}
	mode, err := preprocess.ParseMode(w.eng.Resize)
	if err != nil {
		return out, err
	}
	t0 := ms()
	src, _, err := preprocess.Decode(img)
	if err != nil {
		return out, err
	}
	t1 := ms()
	n := w.eng.InputSize
	rgb, tr, err := preprocess.Input(src, mode, n)
	if err != nil {
		return out, err
	}
	t2 := ms()
	f, err := w.eng.Int8.Features(rgb, n, n)
	if err != nil {
		return out, err
	}
	logits := w.eng.Int8.Logits(f)
	t3 := ms()
	ev := func(c int) ([]float32, error) { return w.eng.Int8.Evidence(f, c), nil }
	if len(logits) > allMapsUpTo { // as patchCandidates: many classes' maps in one pass
		all := w.eng.Int8.EvidenceAll(f)
		ev = func(c int) ([]float32, error) { return all[c], nil }
	}
	if out.Patches, err = patchset.Wire(len(logits), k, ev); err != nil {
		return out, err
	}
	out.Result = protocol.Result{Model: w.eng.Label(), Logits: logits, Map: protocol.MapSize{H: f.H, W: f.W}, Top: w.eng.Top(logits, topK)}
	out.Transform = tr.Wire()
	out.Timings = protocol.Timings{DecodeMs: t1 - t0, PreprocessMs: t2 - t1, InferMs: t3 - t2, EvidenceMs: ms() - t3}
	return out, nil
}

// patchesMany answers a PatchesRequest for imgs: whole images here and on
// the patchers side by side (image i here when i % (len(patchers)+1) is
// 0, else on patchers[i%(len(patchers)+1)-1]). An image that fails on a
// patcher (or one that fails, hangs or answers wrongly) is computed here
// again, so a bad image gets the error it would get here.
func (w *worker) patchesMany(imgs [][]byte, topK, k int, patchers []patcher, ms func() float64) (*protocol.PatchesReply, error) {
	if len(imgs) == 0 {
		return nil, errors.New("patches: no images")
	}
	if w.eng == nil {
		return nil, errNoModel
	}
	m := len(patchers) + 1
	rounds := (len(imgs) + m - 1) / m
	due := time.Now().Add(time.Duration(rounds) * protocol.HelperDeadline(w.eng.Config.MACs(w.eng.InputSize, w.eng.InputSize), w.warmupMs))
	waits := make([]func() (protocol.PatchesImage, error), len(imgs))
	for i := range imgs {
		if j := i % m; j > 0 {
			waits[i] = patchers[j-1].patches(imgs[i], topK, k, due)
		}
	}
	rep := &protocol.PatchesReply{Header: protocol.Header{Type: protocol.KindPatches}, Images: make([]protocol.PatchesImage, len(imgs))}
	here := func(i int) {
		r, err := w.patchesOne(imgs[i], topK, k, ms)
		if err != nil {
			r = protocol.PatchesImage{Err: err.Error()}
		}
		rep.Images[i] = r
	}
	for i := range imgs {
		if waits[i] == nil {
			here(i)
		}
	}
	for i, wait := range waits {
		if wait == nil {
			continue
		}
		r, err := wait()
		if err != nil || r.Err != "" || r.Patches == nil || len(r.Result.Logits) != len(w.eng.Classes) {
			here(i)
			continue
		}
		rep.Images[i] = r
	}
	return rep, nil
}
