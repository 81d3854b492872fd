// Package preprocess turns image file bytes into the exact uint8 RGB input of
// the model.
//
// The pipeline is Decode (format sniffing, a pixel-count limit checked before
// any pixel is decoded, JPEG EXIF orientation, correct colour conversion),
// then a Transform that maps the decoded image onto the size x size model
// input, either by squashing it or by resizing its shorter side and cropping
// the centre. Transform.ToSource maps boxes on the model input back onto the
// source image, so that evidence found by the model can be drawn on the
// original picture.
//
// Resampling is antialiased bilinear (golang.org/x/image/draw.BiLinear), which
// computes the same weights as PyTorch's
// F.interpolate(mode="bilinear", antialias=True, align_corners=False) used to
// train the model.
package preprocess

import (
	"fmt"
	"github.com/bagnetweb/bagnet/protocol"
	"image"
	"strings"
)

// Mode selects how a source image is mapped onto the square model input.
type Mode string

const (
	// Squash resizes the whole image to size x size, ignoring its aspect
	// ratio. It is how the training images were made.
	Squash Mode = "squash"
	// Crop resizes the image so that its shorter side is
	// round(size*256/224) and then takes the centre size x size square,
	// like the standard ImageNet evaluation (shorter side 256, centre crop
	// 224).
	Crop Mode = "crop"
)

// ParseMode returns the Mode named by s ("squash" or "crop", case-insensitive,
// surrounding spaces ignored).
func ParseMode(s string) (Mode, error) {
	switch Mode(strings.ToLower(strings.TrimSpace(s))) {
	case Squash:
		return Squash, nil
	case Crop:
		return Crop, nil
	}
	return "", fmt.Errorf("preprocess: unknown mode %q (want %q or %q)", s, Squash, Crop)
}

// Transform describes how a SrcW x SrcH source image maps onto the
// Size x Size model input: the source is resized to ResizedW x ResizedH and
// the Size x Size window at (OffX, OffY) of the resized image is kept.
type Transform struct {
	Mode       Mode
	Size       int // side of the square model input, in pixels
	SrcW, SrcH int // source image size (after EXIF orientation)
	// ResizedW x ResizedH is the size the source is resampled to. In Squash
	// mode it is Size x Size; in Crop mode the shorter side is
	// round(Size*256/224) and the longer side keeps the aspect ratio,
	// round(long*short_target/short).
	ResizedW, ResizedH int
	// OffX, OffY is the top-left corner of the model input inside the
	// resized image: floor((Resized-Size)/2) in Crop mode, 0 in Squash mode.
	OffX, OffY int
}

// CropShortSide returns the length that Crop mode resizes the shorter image
// side to for a model input of the given size: round(size*256/224), with
// halves rounded up (protocol.CropShortSide, the one definition).
func CropShortSide(size int) int {
	return protocol.CropShortSide(size)
}

// roundDiv returns a/b rounded to the nearest integer, halves up, for a >= 0
// and b > 0.
func roundDiv(a, b int) int {
	return (2*a + b) / (2 * b)
}

// NewTransform returns the Transform for a srcW x srcH image and a
// size x size model input. It panics on arguments that CheckTransform
// rejects (an unknown mode, a size outside [1, MaxSize], a source without
// pixels or over MaxPixels); Image reports those cases as errors instead.
func NewTransform(mode Mode, size, srcW, srcH int) Transform {
	if err := CheckTransform(mode, size, srcW, srcH); err != nil {
		panic(err)
	}
	t := Transform{Mode: mode, Size: size, SrcW: srcW, SrcH: srcH}
	switch mode {
	case Squash:
		t.ResizedW, t.ResizedH = size, size
	case Crop:
		short := CropShortSide(size)
		if srcW <= srcH {
			t.ResizedW, t.ResizedH = short, roundDiv(srcH*short, srcW)
		} else {
			t.ResizedW, t.ResizedH = roundDiv(srcW*short, srcH), short
		}
		t.OffX = (t.ResizedW - size) / 2
		t.OffY = (t.ResizedH - size) / 2
	}
	return t
}

// CheckTransform reports whether NewTransform accepts its arguments.
func CheckTransform(mode Mode, size, srcW, srcH int) error {
	if mode != Squash && mode != Crop {
		return fmt.Errorf("preprocess: unknown mode %q (want %q or %q)", mode, Squash, Crop)
	}
	if size <= 0 || size > MaxSize {
		return fmt.Errorf("preprocess: model input size %d out of range [1, %d]", size, MaxSize)
	}
	if srcW <= 0 || srcH <= 0 {
		return fmt.Errorf("preprocess: source image %dx%d has no pixels", srcW, srcH)
	}
	if int64(srcW)*int64(srcH) > MaxPixels {
		return fmt.Errorf("preprocess: source image %dx%d is over the %d pixel limit", srcW, srcH, MaxPixels)
	}
	return nil
}

// MaxSize is the largest model input side NewTransform accepts.
const MaxSize = 4096

// ToSource maps the half-open box [x0, x1) x [y0, y1), in model-input pixel
// coordinates, back to source-image pixel coordinates
// (protocol.Transform.ToSourceF: pixel edges map to pixel edges).
func (t Transform) ToSource(x0, y0, x1, y1 float64) (sx0, sy0, sx1, sy1 float64) {
	return t.Wire().ToSourceF(x0, y0, x1, y1)
}

// Wire is t as the wire type the page and the CLI's JSON share.
func (t Transform) Wire() protocol.Transform {
	return protocol.Transform{Mode: string(t.Mode), Size: t.Size, SrcW: t.SrcW, SrcH: t.SrcH,
		ResizedW: t.ResizedW, ResizedH: t.ResizedH, OffX: t.OffX, OffY: t.OffY}
}

// Apply produces the model input for img: Size*Size*3 bytes, RGB, row-major
// (height, width, channel). img must be SrcW x SrcH (Apply panics
// otherwise) and should come from Decode, which converts WebP's
// limited-range colours and applies EXIF orientation. Alpha is composited
// over white. A step whose output size equals its input size copies pixels
// unchanged: an image that already has the model's size in Squash mode is
// returned bit-exactly.
func (t Transform) Apply(img image.Image) []uint8 {
	b := img.Bounds()
	if b.Dx() != t.SrcW || b.Dy() != t.SrcH {
		panic(fmt.Sprintf("preprocess: Apply got a %dx%d image, Transform is for %dx%d",
			b.Dx(), b.Dy(), t.SrcW, t.SrcH))
	}
	src := ToRGBA(img)
	win := image.Rect(t.OffX, t.OffY, t.OffX+t.Size, t.OffY+t.Size)
	var out *image.RGBA
	if t.ResizedW == t.SrcW && t.ResizedH == t.SrcH {
		out = src.SubImage(win.Add(src.Rect.Min)).(*image.RGBA)
	} else {
		out = resample(src, t.ResizedW, t.ResizedH, win)
	}
	rgb := make([]uint8, 0, t.Size*t.Size*3)
	for y := 0; y < t.Size; y++ {
		row := out.Pix[y*out.Stride : y*out.Stride+4*t.Size]
		for x := 0; x < len(row); x += 4 {
			rgb = append(rgb, row[x], row[x+1], row[x+2])
		}
	}
	return rgb
}

// Image decodes data and returns its model input for the given mode and
// size, with the Transform that maps model-input boxes back onto the
// decoded image.
func Image(data []byte, mode Mode, size int) (rgb []uint8, t Transform, err error) {
	if err := CheckTransform(mode, size, 1, 1); err != nil {
		return nil, Transform{}, err // before decoding: a bad mode or size is not the image's fault
	}
	img, _, err := Decode(data)
	if err != nil {
		return nil, Transform{}, err
	}
	return Input(img, mode, size)
}

// Input maps a decoded image onto the model input for the given mode and
// size: the one definition of "transform, then apply" that every caller
// (the engine, the command-line tool, calibration) shares. It returns the
// InputSize^2 RGB bytes and the Transform that maps model-input boxes back
// onto img, or an error naming what CheckTransform refused.
func Input(img image.Image, mode Mode, size int) (rgb []uint8, t Transform, err error) {
	b := img.Bounds()
	if err := CheckTransform(mode, size, b.Dx(), b.Dy()); err != nil {
		return nil, Transform{}, err
	}
	t = NewTransform(mode, size, b.Dx(), b.Dy())
	return t.Apply(img), t, nil
}
