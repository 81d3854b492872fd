package preprocess

import (
	"image"

	"golang.org/x/image/draw"
	"golang.org/x/image/math/f64"
)

// maxScaleBuffer caps the temporary buffer of draw.BiLinear.Scale, in
// entries of 32 bytes. Scale first resamples every source row to the full
// resized width (ResizedW x SrcH entries); for very elongated images, whose
// resized width in Crop mode or source height in Squash mode is huge, that
// buffer would not fit in memory, and resample uses draw.BiLinear.Transform
// instead, which computes the same weights for the output pixels only. It is
// a variable so that tests can exercise both paths.
var maxScaleBuffer = 4 << 20 // 128 MiB

// resample resizes the opaque src to rw x rh with antialiased bilinear
// filtering and returns the window win of the result (a rectangle inside
// (0, 0, rw, rh)), rounded to 8 bits, with its top-left corner at (0, 0).
func resample(src *image.RGBA, rw, rh int, win image.Rectangle) *image.RGBA {
	sr := src.Bounds()
	// Resampling to 16 bits and rounding here avoids the downward bias of
	// draw's truncating 16-to-8-bit conversion for *image.RGBA destinations.
	dst := image.NewRGBA64(image.Rect(0, 0, win.Dx(), win.Dy()))
	if int64(rw)*int64(sr.Dy()) <= int64(maxScaleBuffer) {
		dr := image.Rect(0, 0, rw, rh).Sub(win.Min)
		draw.BiLinear.Scale(dst, dr, src, sr, draw.Src, nil)
	} else {
		// s2d maps source coordinates to destination coordinates.
		fx := float64(rw) / float64(sr.Dx())
		fy := float64(rh) / float64(sr.Dy())
		s2d := f64.Aff3{
			fx, 0, -float64(sr.Min.X)*fx - float64(win.Min.X),
			0, fy, -float64(sr.Min.Y)*fy - float64(win.Min.Y),
		}
		draw.BiLinear.Transform(dst, s2d, src, sr, draw.Src, nil)
	}
	out := image.NewRGBA(dst.Rect)
	for i := 0; i < len(dst.Pix); i += 2 {
		v := uint32(dst.Pix[i])<<8 | uint32(dst.Pix[i+1])
		out.Pix[i/2] = uint8((v*255 + 32767) / 65535)
	}
	return out
}
