package heatmap

import (
	"github.com/bagnetweb/bagnet/geom"
	"image"
	"image/color"
	"image/draw"
	"math"

	xdraw "golang.org/x/image/draw"
	"golang.org/x/image/math/f64"
)

// Crop resamples the part r of img (measured from img's top-left corner,
// fractional, possibly reaching past its edges) onto a w x h picture with
// a Catmull-Rom kernel widened for downscaling, so a crop of a large photo
// is averaged, not aliased. The parts of r outside img (a receptive field
// that reaches over the border, where the network saw padding) are grey.
// Transparent parts of img are composited over white.
func Crop(img image.Image, r geom.Rect[float64], w, h int) *image.RGBA {
	w, h = max(w, 1), max(h, 1)
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(out, out.Rect, image.NewUniform(color.RGBA{dimGrey, dimGrey, dimGrey, 0xff}), image.Point{}, draw.Src)
	rw, rh := r.X1-r.X0, r.Y1-r.Y0
	if !(rw > 0 && rh > 0) {
		return out
	}
	b := img.Bounds()
	sx, sy := float64(w)/rw, float64(h)/rh
	// Inside the image: white first, so that transparency shows white.
	ix0, iy0 := -r.X0*sx, -r.Y0*sy
	ix1, iy1 := (float64(b.Dx())-r.X0)*sx, (float64(b.Dy())-r.Y0)*sy
	inside := image.Rect(int(max(0, math.Ceil(ix0-0.5))), int(max(0, math.Ceil(iy0-0.5))), int(min(float64(w), math.Ceil(ix1-0.5))), int(min(float64(h), math.Ceil(iy1-0.5))))
	draw.Draw(out, inside, image.White, image.Point{}, draw.Src)
	// s2d maps a source point (absolute coordinates) onto the crop.
	s2d := f64.Aff3{sx, 0, -(float64(b.Min.X) + r.X0) * sx, 0, sy, -(float64(b.Min.Y) + r.Y0) * sy}
	xdraw.CatmullRom.Transform(out, s2d, img, b, draw.Over, nil)
	return out
}

// PatchTile is one patch of a Patches figure.
type PatchTile struct {
	Img      image.Image // the patch, drawn at the figure's tile size
	Evidence float32     // colours the frame (see Color)
	Lines    []string    // labels under the patch, cut to the tile's width
}

// PatchSection is one titled group of tiles.
type PatchSection struct {
	Title string
	Tiles []PatchTile
}

// Patch-figure layout, in pixels.
const (
	figMargin = 8
	tileFrame = 3 // coloured frame around each patch
	tileGap   = 6
)

// Patches draws a figure of image patches: a title line, then each section
// as its title and rows of perRow tiles (the patch scaled to tile x tile
// inside a frame coloured by its evidence on the scale [-absMax, absMax],
// with its label lines below), then a Legend of that scale. Sections
// without tiles show "(none)". The background is white.
func Patches(title string, sections []PatchSection, tile, perRow int, absMax, lo, hi float32) *image.RGBA {
	tile, perRow = max(tile, 8), max(perRow, 1)
	lines := 0
	for _, s := range sections {
		for _, t := range s.Tiles {
			lines = max(lines, len(t.Lines))
		}
	}
	cellW := tile + 2*tileFrame
	cellH := cellW + lines*lineH + 2
	width := 2*figMargin + perRow*cellW + (perRow-1)*tileGap
	height := figMargin + lineH + 4
	for _, s := range sections {
		rows := max(1, (len(s.Tiles)+perRow-1)/perRow)
		if len(s.Tiles) == 0 {
			height += 2 * lineH
		} else {
			height += lineH + 4 + rows*(cellH+tileGap)
		}
		height += 4
	}
	legendY := height
	height += LegendHeight + figMargin
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Rect, image.White, image.Point{}, draw.Src)
	maxChars := (width - 2*figMargin) / face.Advance
	text(img, figMargin, figMargin, shorten(ascii(title), maxChars))
	y := figMargin + lineH + 4
	tileChars := cellW / face.Advance
	for _, s := range sections {
		text(img, figMargin, y, shorten(ascii(s.Title), maxChars))
		y += lineH + 4
		if len(s.Tiles) == 0 {
			text(img, figMargin, y, "(none)")
			y += lineH + 4
			continue
		}
		for k, t := range s.Tiles {
			x := figMargin + (k%perRow)*(cellW+tileGap)
			ty := y + (k/perRow)*(cellH+tileGap)
			frame := image.Rect(x, ty, x+cellW, ty+cellW)
			draw.Draw(img, frame, image.NewUniform(Color(t.Evidence, absMax)), image.Point{}, draw.Src)
			inner := frame.Inset(tileFrame)
			xdraw.CatmullRom.Scale(img, inner, t.Img, t.Img.Bounds(), draw.Src, nil)
			for l, s := range t.Lines {
				text(img, x, ty+cellW+2+l*lineH, shorten(ascii(s), tileChars))
			}
		}
		y += ((len(s.Tiles)+perRow-1)/perRow)*(cellH+tileGap) + 4
	}
	leg := Legend(width-2*figMargin, absMax, lo, hi, "evidence per patch")
	draw.Draw(img, leg.Rect.Add(image.Pt(figMargin, legendY)), leg, image.Point{}, draw.Src)
	return img
}
