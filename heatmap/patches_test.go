package heatmap

import (
	"github.com/bagnetweb/bagnet/geom"
	"image"
	"image/color"
	"testing"
)

// A crop at the source's own scale and integer offsets reproduces its
// pixels exactly; the part of the box past the image's edge is grey; the
// image's bounds need not start at the origin.
func TestCrop(t *testing.T) {
	src := image.NewRGBA(image.Rect(10, 20, 50, 50)) // 40x30, offset origin
	for y := 20; y < 50; y++ {
		for x := 10; x < 50; x++ {
			src.SetRGBA(x, y, color.RGBA{uint8(x * 5), uint8(y * 3), uint8(x ^ y), 0xff})
		}
	}
	c := Crop(src, geom.Rect[float64]{X0: 5, Y0: 7, X1: 21, Y1: 19}, 16, 12)
	for y := 0; y < 12; y++ {
		for x := 0; x < 16; x++ {
			if got, want := c.RGBAAt(x, y), src.RGBAAt(10+5+x, 20+7+y); got != want {
				t.Fatalf("crop (%d,%d) = %v, want %v", x, y, got, want)
			}
		}
	}
	// Half of this box lies left of the image.
	c = Crop(src, geom.Rect[float64]{X0: -8, Y0: 0, X1: 8, Y1: 16}, 16, 16)
	grey := color.RGBA{dimGrey, dimGrey, dimGrey, 0xff}
	for y := 0; y < 16; y++ {
		for x := 0; x < 16; x++ {
			got := c.RGBAAt(x, y)
			if x < 8 && got != grey {
				t.Fatalf("(%d,%d) outside the image = %v, want grey", x, y, got)
			}
			if x >= 8 && got != src.RGBAAt(10+x-8, 20+y) {
				t.Fatalf("(%d,%d) = %v, want %v", x, y, got, src.RGBAAt(10+x-8, 20+y))
			}
		}
	}
	// Downscaling averages: a 1-pixel checkerboard becomes mid-grey.
	cb := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for y := 0; y < 64; y++ {
		for x := 0; x < 64; x++ {
			v := uint8(255 * ((x + y) % 2))
			cb.SetRGBA(x, y, color.RGBA{v, v, v, 0xff})
		}
	}
	c = Crop(cb, geom.Rect[float64]{X0: 0, Y0: 0, X1: 64, Y1: 64}, 8, 8)
	if v := c.RGBAAt(4, 4).R; v < 110 || v > 145 {
		t.Errorf("a downscaled checkerboard is %d, want about 128 (aliasing)", v)
	}
}

func TestPatchesFigure(t *testing.T) {
	tile := PatchTile{Img: image.NewRGBA(image.Rect(0, 0, 10, 10)), Evidence: 2, Lines: []string{"+2", "file.jpg"}}
	img := Patches("title", []PatchSection{{Title: "a", Tiles: []PatchTile{tile, tile, tile}}, {Title: "empty"}}, 32, 2, 2, -1, 2)
	// Two columns of 32+2*3 pixel cells with a gap, inside the margins.
	if w := img.Rect.Dx(); w != 2*figMargin+2*(32+2*tileFrame)+tileGap {
		t.Errorf("width %d", w)
	}
	// The first tile's frame has the colour of evidence 2 at absMax 2.
	if got, want := img.RGBAAt(figMargin+1, figMargin+lineH+4+lineH+4+1), Color(2, 2); got != want {
		t.Errorf("frame colour %v, want %v", got, want)
	}
}
