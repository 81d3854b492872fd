// Package viz holds the pure-Go computations behind the page's pictures:
// the diverging colour map, evidence overlays and small-multiple grids, the
// geometry that ties an evidence-map cell to its patch, rankings of patches,
// and the scramble experiment. It never touches syscall/js, so it is tested
// natively and shared by the UI app and the inference worker.
package viz

import (
	"fmt"
	"github.com/bagnetweb/bagnet/geom"
	"math"
	"sort"
	"strings"

	"github.com/bagnetweb/bagnet/heatmap/colormap"
)

// RGB is an 8-bit sRGB colour.
type RGB struct{ R, G, B uint8 }

// Hex is the colour in CSS #rrggbb notation.
func (c RGB) Hex() string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

// rdBu is the shared colour map's palette (package heatmap/colormap).
var rdBu = func() (p [len(colormap.RdBu)]RGB) {
	for i, c := range colormap.RdBu {
		p[i] = RGB{c.R, c.G, c.B}
	}
	return p
}()

// Diverging maps v onto the RdBu colour map, symmetric around 0: -lim is dark
// blue, 0 is near white, +lim is dark red. Values beyond ±lim saturate; a
// non-positive or non-finite lim, or a NaN v, gives the neutral colour.
func Diverging(v, lim float32) RGB {
	c := colormap.Color(v, lim)
	return RGB{c.R, c.G, c.B}
}

// Gradient is a CSS linear-gradient (left to right, -lim to +lim) of the
// colour map, for legends.
func Gradient() string {
	stops := make([]string, len(rdBu))
	for i, c := range rdBu {
		stops[i] = c.Hex()
	}
	return "linear-gradient(to right, " + strings.Join(stops, ", ") + ")"
}

// Limit is the symmetric colour range for maps: the largest |v| over all of
// them. It is never 0 (an all-zero map gets 1) and ignores non-finite values.
func Limit(maps ...[]float32) float32 {
	var m float32
	for _, ev := range maps {
		for _, v := range ev {
			a := float32(math.Abs(float64(v)))
			if a > m && !math.IsInf(float64(a), 0) {
				m = a
			}
		}
	}
	if m == 0 {
		return 1
	}
	return m
}

// Mean of v (0 for an empty slice), accumulated in float64.
func Mean(v []float32) float64 {
	if len(v) == 0 {
		return 0
	}
	var s float64
	for _, x := range v {
		s += float64(x)
	}
	return s / float64(len(v))
}

// Geometry ties an H x W evidence map to a Size x Size model input: cell
// (i, j) sees the Patch x Patch box whose top-left corner is
// (Stride*j, Stride*i).
type Geometry struct {
	Size, Patch, Stride int
	H, W                int
}

// Validate reports whether g describes a map that fits its input.
func (g Geometry) Validate() error {
	switch {
	case g.Size <= 0 || g.Patch <= 0 || g.Stride <= 0:
		return fmt.Errorf("viz: bad geometry %+v", g)
	case g.H < 0 || g.W < 0:
		return fmt.Errorf("viz: bad map size %dx%d", g.H, g.W)
	case g.H > 0 && g.Stride*(g.H-1)+g.Patch > g.Size, g.W > 0 && g.Stride*(g.W-1)+g.Patch > g.Size:
		return fmt.Errorf("viz: %dx%d map of %d-pixel patches at stride %d does not fit a %d-pixel input",
			g.H, g.W, g.Patch, g.Stride, g.Size)
	}
	return nil
}

// CellBox is cell (i, j)'s receptive field in model-input pixels.
func (g Geometry) CellBox(i, j int) geom.Rect[int] {
	return geom.Cell(i, j, g.Stride, g.Patch)
}

// centreOffset is where the Stride x Stride block at the centre of cell
// (0, 0)'s patch starts, in input pixels (a half-integer when Patch-Stride is
// odd).
func (g Geometry) centreOffset() float64 { return float64(g.Patch-g.Stride) / 2 }

// CellAt returns the cell whose central Stride x Stride block contains the
// input-pixel point (x, y); those blocks tile the covered part of the input
// without overlap. ok is false outside them.
func (g Geometry) CellAt(x, y float64) (i, j int, ok bool) {
	if g.Stride <= 0 {
		return 0, 0, false
	}
	o := g.centreOffset()
	fj := math.Floor((x - o) / float64(g.Stride))
	fi := math.Floor((y - o) / float64(g.Stride))
	if fi < 0 || fj < 0 || fi >= float64(g.H) || fj >= float64(g.W) {
		return 0, 0, false
	}
	return int(fi), int(fj), true
}

// OverlayScale is the smallest even upscaling factor of the input that makes
// the cells' central blocks land on whole pixels and the overlay at least
// minSide pixels wide.
func OverlayScale(size, minSide int) int {
	s := 2
	for size > 0 && size*s < minSide {
		s += 2
	}
	return s
}

// Alpha is how strongly a cell with evidence v is painted over the image:
// opacity (in [0, 1]) for |v| >= lim, fading with sqrt(|v|/lim) to
// transparent at 0, so the photo stays visible where the evidence is weak.
func Alpha(v, lim float32, opacity float64) float64 {
	if !(lim > 0) || v != v {
		return 0
	}
	r := math.Min(1, math.Abs(float64(v))/float64(lim))
	return math.Max(0, math.Min(1, opacity)) * math.Sqrt(r)
}

// Overlay draws the model input rgb (Size x Size x 3 bytes) upscaled by an
// even factor scale into an RGBA image of side Size*scale, and blends over
// each cell's central Stride x Stride block the colour of its evidence
// (Diverging with lim) with the weight Alpha(v, lim, opacity). Pixels that
// are the centre of no patch keep the image. ev may be nil (image only).
func Overlay(rgb []uint8, g Geometry, ev []float32, lim float32, opacity float64, scale int) ([]uint8, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	n := g.Size
	if len(rgb) != n*n*3 {
		return nil, fmt.Errorf("viz: image is %d bytes, want %dx%dx3", len(rgb), n, n)
	}
	if ev != nil && len(ev) != g.H*g.W {
		return nil, fmt.Errorf("viz: evidence map has %d values, want %dx%d", len(ev), g.H, g.W)
	}
	if scale < 2 || scale%2 != 0 {
		return nil, fmt.Errorf("viz: overlay scale %d is not even and >= 2", scale)
	}
	opacity = math.Max(0, math.Min(1, opacity))
	side := n * scale
	out := make([]uint8, side*side*4)
	for y := 0; y < side; y++ {
		sy := y / scale
		for x := 0; x < side; x++ {
			s, d := (sy*n+x/scale)*3, (y*side+x)*4
			out[d], out[d+1], out[d+2], out[d+3] = rgb[s], rgb[s+1], rgb[s+2], 255
		}
	}
	if ev == nil || opacity == 0 {
		return out, nil
	}
	off := int(math.Round(g.centreOffset() * float64(scale)))
	blk := g.Stride * scale
	for i := 0; i < g.H; i++ {
		for j := 0; j < g.W; j++ {
			v := ev[i*g.W+j]
			c := Diverging(v, lim)
			a := int(math.Round(256 * Alpha(v, lim, opacity)))
			y0, x0 := off+i*blk, off+j*blk
			for y := y0; y < y0+blk; y++ {
				row := out[(y*side+x0)*4 : (y*side+x0+blk)*4]
				for p := 0; p < len(row); p += 4 {
					row[p] = blend(row[p], c.R, a)
					row[p+1] = blend(row[p+1], c.G, a)
					row[p+2] = blend(row[p+2], c.B, a)
				}
			}
		}
	}
	return out, nil
}

// blend mixes p towards q by a/256.
func blend(p, q uint8, a int) uint8 {
	return uint8((int(p)*(256-a) + int(q)*a + 128) >> 8)
}

// MapImage renders an h x w evidence map as h x w RGBA pixels coloured by
// Diverging with lim (one pixel per cell, for crisp upscaling).
func MapImage(ev []float32, lim float32) []uint8 {
	out := make([]uint8, len(ev)*4)
	for k, v := range ev {
		c := Diverging(v, lim)
		out[4*k], out[4*k+1], out[4*k+2], out[4*k+3] = c.R, c.G, c.B, 255
	}
	return out
}

// Crop cuts box b (clipped to the image) out of a size x size RGB image and
// returns it as RGBA with its width and height.
func Crop(rgb []uint8, size int, b geom.Rect[int]) (rgba []uint8, w, h int) {
	x0, y0 := max(0, b.X0), max(0, b.Y0)
	x1, y1 := min(size, b.X1), min(size, b.Y1)
	if x1 <= x0 || y1 <= y0 || len(rgb) < size*size*3 {
		return nil, 0, 0
	}
	w, h = x1-x0, y1-y0
	rgba = make([]uint8, 0, w*h*4)
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			s := (y*size + x) * 3
			rgba = append(rgba, rgb[s], rgb[s+1], rgb[s+2], 255)
		}
	}
	return rgba, w, h
}

// Ranked returns the indices of ev ordered by decreasing value (ties by
// index, NaNs last).
func Ranked(ev []float32) []int {
	idx := make([]int, len(ev))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		va, vb := ev[idx[a]], ev[idx[b]]
		if vb != vb {
			return va == va
		}
		return va > vb
	})
	return idx
}

// Extremes returns up to k indices of the highest values of ev (best first)
// and, separately, up to k indices of the lowest (most negative first) that
// are below zero. The two lists never share an index.
func Extremes(ev []float32, k int) (top, bottom []int) {
	r := Ranked(ev)
	k = max(0, min(k, len(r)))
	top = append(top, r[:k]...)
	for n := len(r) - 1; n >= k && len(bottom) < k; n-- {
		if v := ev[r[n]]; v < 0 {
			bottom = append(bottom, r[n])
		}
	}
	return top, bottom
}
