package preprocess

import (
	"image"

	"golang.org/x/image/draw"
	"golang.org/x/image/math/f64"
)

// ThumbSize is the size of img's thumbnail of at most side pixels on its
// longest side: w x h scaled down to keep its aspect ratio (rounded, at
// least 1 pixel each way), or w x h itself when it fits already.
func ThumbSize(w, h, side int) (tw, th int) {
	if w <= side && h <= side {
		return w, h
	}
	if w >= h {
		return side, max(1, roundDiv(h*side, w))
	}
	return max(1, roundDiv(w*side, h)), side
}

// Thumbnail is img (from Decode) scaled down to at most side pixels on its
// longest side (ThumbSize) with Apply's antialiased bilinear filter, alpha
// composited over white: a picture for a list, not a model input. It reads
// img directly (no full-size copy of it is made).
func Thumbnail(img image.Image, side int) *image.RGBA {
	b := img.Bounds()
	w, h := ThumbSize(b.Dx(), b.Dy(), side)
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range dst.Pix {
		dst.Pix[i] = 0xff
	}
	if int64(w)*int64(b.Dy()) <= int64(maxScaleBuffer) {
		draw.BiLinear.Scale(dst, dst.Rect, img, b, draw.Over, nil)
		return dst
	}
	// Scale's buffer would be w x the source's height (see resample).
	fx, fy := float64(w)/float64(b.Dx()), float64(h)/float64(b.Dy())
	s2d := f64.Aff3{fx, 0, -float64(b.Min.X) * fx, 0, fy, -float64(b.Min.Y) * fy}
	draw.BiLinear.Transform(dst, s2d, img, b, draw.Over, nil)
	return dst
}
