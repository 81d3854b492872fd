// Package heatmap draws BagNet evidence maps over images: a diverging colour
// map symmetric around zero, the painting of a map onto the image it was
// computed from, and a legend bar. It is pure Go (image, image/color and
// golang.org/x/image/font only) so the command-line tool and the browser UI
// (js/wasm) share the same colours.
//
// Colours come from ColorBrewer's RdBu scheme, which people with the common
// forms of colour blindness can read: positive evidence (a patch that speaks
// for the class) is red, negative evidence is blue and zero is near white.
//
// A BagNet evidence map has one value per patch. Neighbouring patches are
// Stride pixels apart but each covers q > Stride pixels, so their receptive
// fields overlap. Overlay does not paint whole receptive fields (later cells
// would hide earlier ones); it interpolates the map bilinearly between the
// patch centres and paints the result over the whole area the patches cover,
// holding the outermost values constant out to the edge of that area. A
// pixel's colour is therefore the evidence of the patches centred nearest
// to it, and the painted area is exactly what the model looked at. Pixels
// outside it (the sides cut off by a centre crop, or the few pixels no patch
// reaches) are dimmed.
package heatmap

import (
	"fmt"
	"github.com/bagnetweb/bagnet/geom"
	"image"
	"image/color"
	"image/draw"
	"math"

	"github.com/bagnetweb/bagnet/heatmap/colormap"
)

// Color maps v onto the diverging colour scale [-absMax, absMax]: dark blue
// at -absMax, near white (#f7f7f7) at 0, dark red at +absMax, interpolated
// linearly in sRGB between the 11 RdBu colours. Values outside the range
// take the end colours. NaN, or an absMax that is not positive and finite,
// gives the neutral colour. The result is opaque.
func Color(v, absMax float32) color.RGBA { return colormap.Color(v, absMax) }

// Grid places an evidence map on an image. Coordinates are image pixels
// measured from the image's top-left corner.
type Grid struct {
	Rows, Cols int
	Values     []float32 // Rows*Cols, row-major
	// X0, Y0 is the centre of cell (0, 0); DX and DY are the distances
	// between the centres of neighbouring columns and rows (positive).
	X0, Y0, DX, DY float64
	// Area is the part of the image the map covers: the union of the
	// cells' receptive fields.
	Area geom.Rect[float64]
}

// Check reports whether g describes a usable map.
func (g *Grid) Check() error {
	if g.Rows < 1 || g.Cols < 1 {
		return fmt.Errorf("heatmap: map is %dx%d, want at least 1x1", g.Cols, g.Rows)
	}
	if len(g.Values) != g.Rows*g.Cols {
		return fmt.Errorf("heatmap: map has %d values, %dx%d needs %d", len(g.Values), g.Cols, g.Rows, g.Rows*g.Cols)
	}
	for _, v := range []float64{g.X0, g.Y0, g.DX, g.DY, g.Area.X0, g.Area.Y0, g.Area.X1, g.Area.Y1} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("heatmap: map geometry is not finite")
		}
	}
	if !(g.DX > 0 && g.DY > 0) {
		return fmt.Errorf("heatmap: cell spacing %gx%g is not positive", g.DX, g.DY)
	}
	return nil
}

// At returns the map's value at image point (x, y), interpolated bilinearly
// between cell centres and held constant beyond the outermost centres, and
// whether the point lies inside Area.
func (g *Grid) At(x, y float64) (float32, bool) {
	inside := x >= g.Area.X0 && x < g.Area.X1 && y >= g.Area.Y0 && y < g.Area.Y1
	u := math.Max(0, math.Min(float64(g.Cols-1), (x-g.X0)/g.DX))
	v := math.Max(0, math.Min(float64(g.Rows-1), (y-g.Y0)/g.DY))
	j, i := min(int(u), g.Cols-1), min(int(v), g.Rows-1)
	j1, i1 := min(j+1, g.Cols-1), min(i+1, g.Rows-1)
	fu, fv := u-float64(j), v-float64(i)
	at := func(i, j int) float64 { return float64(g.Values[i*g.Cols+j]) }
	top := at(i, j)*(1-fu) + at(i, j1)*fu
	bot := at(i1, j)*(1-fu) + at(i1, j1)*fu
	return float32(top*(1-fv) + bot*fv), inside
}

// Range returns the smallest and largest value of the map and the larger of
// their magnitudes, the natural absMax for Color.
func (g *Grid) Range() (lo, hi, absMax float32) {
	if len(g.Values) == 0 {
		return 0, 0, 0
	}
	lo, hi = g.Values[0], g.Values[0]
	for _, v := range g.Values {
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo, hi, max(-lo, hi)
}

// dimGrey and dimAlpha dim the pixels outside the map's area.
const (
	dimGrey  = 128
	dimAlpha = 0.5
)

// Overlay returns a copy of img (its bounds moved to the origin) with g
// painted over it: every pixel whose centre lies in g.Area is blended with
// Color(g.At(centre), absMax) at opacity alpha (0: image only, 1: map only);
// pixels outside g.Area are blended halfway towards grey. Transparent parts
// of img are composited over white first.
func Overlay(img image.Image, g Grid, absMax float32, alpha float64) (*image.RGBA, error) {
	if err := g.Check(); err != nil {
		return nil, err
	}
	if !(alpha >= 0 && alpha <= 1) {
		return nil, fmt.Errorf("heatmap: opacity %v out of range [0, 1]", alpha)
	}
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Rect, image.White, image.Point{}, draw.Src)
	draw.Draw(out, out.Rect, img, b.Min, draw.Over)
	blend := func(p []uint8, c [3]float64, a float64) {
		for k := 0; k < 3; k++ {
			p[k] = uint8(math.Round(float64(p[k])*(1-a) + c[k]*a))
		}
	}
	grey := [3]float64{dimGrey, dimGrey, dimGrey}
	for y := 0; y < out.Rect.Dy(); y++ {
		row := out.Pix[y*out.Stride:]
		for x := 0; x < out.Rect.Dx(); x++ {
			p := row[4*x : 4*x+4]
			v, inside := g.At(float64(x)+0.5, float64(y)+0.5)
			if !inside {
				blend(p, grey, dimAlpha)
				continue
			}
			c := Color(v, absMax)
			blend(p, [3]float64{float64(c.R), float64(c.G), float64(c.B)}, alpha)
		}
	}
	return out, nil
}
