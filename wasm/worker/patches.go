package main

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"

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
