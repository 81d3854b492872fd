// Package colormap is the one diverging colour map of the project, shared by
// the CLI's pictures (package heatmap) and the browser UI (ui/viz): ColorBrewer's
// RdBu, readable with the common forms of colour blindness. Positive evidence
// is red, negative blue, zero near white. It depends on image/color only, so
// it adds next to nothing to a wasm binary.
package colormap

import (
	"image/color"
	"math"
)

// RdBu is ColorBrewer's 11-class RdBu scheme from the most negative value
// (dark blue) through white (#f7f7f7) to the most positive (dark red).
var RdBu = [...]color.RGBA{
	{0x05, 0x30, 0x61, 0xff}, {0x21, 0x66, 0xac, 0xff}, {0x43, 0x93, 0xc3, 0xff}, {0x92, 0xc5, 0xde, 0xff},
	{0xd1, 0xe5, 0xf0, 0xff}, {0xf7, 0xf7, 0xf7, 0xff}, {0xfd, 0xdb, 0xc7, 0xff}, {0xf4, 0xa5, 0x82, 0xff},
	{0xd6, 0x60, 0x4d, 0xff}, {0xb2, 0x18, 0x2b, 0xff}, {0x67, 0x00, 0x1f, 0xff},
}

// Color maps v onto the diverging scale [-absMax, absMax]: dark blue at
// -absMax, near white at 0, dark red at +absMax, interpolated linearly in
// sRGB between the RdBu colours. Values outside the range take the end
// colours. NaN, or an absMax that is not positive and finite, gives the
// neutral colour. The result is opaque.
func Color(v, absMax float32) color.RGBA {
	t := float64(v) / float64(absMax) // in [-1, 1]
	if !(absMax > 0) || math.IsInf(float64(absMax), 0) || math.IsNaN(t) {
		t = 0
	}
	t = math.Max(-1, math.Min(1, t))
	x := (t + 1) / 2 * float64(len(RdBu)-1)
	i := min(int(x), len(RdBu)-2)
	f := x - float64(i)
	a, b := RdBu[i], RdBu[i+1]
	mix := func(a, b uint8) uint8 { return uint8(math.Round(float64(a)*(1-f) + float64(b)*f)) }
	return color.RGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 0xff}
}
