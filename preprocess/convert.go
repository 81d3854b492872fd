package preprocess

import (
	"image"
	"image/color"
)

// rowFunc writes row y (an absolute coordinate inside the image's bounds) as
// opaque RGBA, alpha composited over white, into dst (4 bytes a pixel).
type rowFunc func(y int, dst []uint8)

// toOpaqueRGBA converts img to an opaque *image.RGBA with alpha composited
// over white, reoriented by the EXIF orientation o (1 to 8), in one pass
// over the pixels. An opaque *image.RGBA with o == 1 is returned as is.
func toOpaqueRGBA(img image.Image, o int) *image.RGBA {
	if m, ok := img.(*image.RGBA); ok && o == 1 && m.Opaque() {
		return m
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	ow, oh := w, h
	if o >= 5 {
		ow, oh = h, w
	}
	out := image.NewRGBA(image.Rect(0, 0, ow, oh))
	read := opaqueRows(img)
	if o <= 1 || o > 8 {
		for y := 0; y < h; y++ {
			read(b.Min.Y+y, out.Pix[y*out.Stride:y*out.Stride+4*w])
		}
		return out
	}
	row := make([]uint8, 4*w)
	for y := 0; y < h; y++ {
		read(b.Min.Y+y, row)
		// Stored pixel (x, y) of this row lands at byte start + x*step of
		// out.Pix.
		var start, step int
		switch o {
		case 2: // mirror horizontally
			start, step = y*out.Stride+4*(w-1), -4
		case 3: // rotate 180
			start, step = (h-1-y)*out.Stride+4*(w-1), -4
		case 4: // mirror vertically
			start, step = (h-1-y)*out.Stride, 4
		case 5: // transpose: (x, y) -> (y, x)
			start, step = 4*y, out.Stride
		case 6: // rotate 90 clockwise: (x, y) -> (h-1-y, x)
			start, step = 4*(h-1-y), out.Stride
		case 7: // transverse: (x, y) -> (h-1-y, w-1-x)
			start, step = (w-1)*out.Stride+4*(h-1-y), -out.Stride
		case 8: // rotate 90 counter-clockwise: (x, y) -> (y, w-1-x)
			start, step = (w-1)*out.Stride+4*y, -out.Stride
		}
		d := start
		for x := 0; x < 4*w; x += 4 {
			copy(out.Pix[d:d+4], row[x:x+4])
			d += step
		}
	}
	return out
}

// opaqueRows returns a rowFunc for img, with fast paths for the types the
// decoders produce.
func opaqueRows(img image.Image) rowFunc {
	b := img.Bounds()
	w := b.Dx()
	switch m := img.(type) {
	case *image.RGBA:
		return func(y int, dst []uint8) {
			i := m.PixOffset(b.Min.X, y)
			src := m.Pix[i : i+4*w]
			for x := 0; x < len(src); x += 4 {
				a := src[x+3]
				dst[x+0] = overWhitePremul(src[x+0], a)
				dst[x+1] = overWhitePremul(src[x+1], a)
				dst[x+2] = overWhitePremul(src[x+2], a)
				dst[x+3] = 0xff
			}
		}
	case *image.NRGBA:
		return func(y int, dst []uint8) {
			i := m.PixOffset(b.Min.X, y)
			src := m.Pix[i : i+4*w]
			for x := 0; x < len(src); x += 4 {
				a := uint32(src[x+3])
				dst[x+0] = overWhite(src[x+0], a)
				dst[x+1] = overWhite(src[x+1], a)
				dst[x+2] = overWhite(src[x+2], a)
				dst[x+3] = 0xff
			}
		}
	case *image.Gray:
		return func(y int, dst []uint8) {
			i := m.PixOffset(b.Min.X, y)
			for x, v := range m.Pix[i : i+w] {
				dst[4*x+0], dst[4*x+1], dst[4*x+2], dst[4*x+3] = v, v, v, 0xff
			}
		}
	case *image.YCbCr:
		hdiv, vdiv := chromaDivisors(m.SubsampleRatio)
		return func(y int, dst []uint8) {
			yi := m.YOffset(b.Min.X, y)
			ci := (y/vdiv - m.Rect.Min.Y/vdiv) * m.CStride
			cx0 := m.Rect.Min.X / hdiv
			for x := 0; x < w; x++ {
				c := ci + (b.Min.X+x)/hdiv - cx0
				r, g, bl := color.YCbCrToRGB(m.Y[yi+x], m.Cb[c], m.Cr[c])
				dst[4*x+0], dst[4*x+1], dst[4*x+2], dst[4*x+3] = r, g, bl, 0xff
			}
		}
	case *image.CMYK:
		return func(y int, dst []uint8) {
			i := m.PixOffset(b.Min.X, y)
			src := m.Pix[i : i+4*w]
			for x := 0; x < len(src); x += 4 {
				r, g, bl := color.CMYKToRGB(src[x], src[x+1], src[x+2], src[x+3])
				dst[x+0], dst[x+1], dst[x+2], dst[x+3] = r, g, bl, 0xff
			}
		}
	case *image.Paletted:
		// Indices beyond the palette (which the decoders reject) read as black.
		var lut [256][3]uint8
		for i, c := range m.Palette {
			if i == len(lut) {
				break
			}
			lut[i] = over16(c.RGBA())
		}
		return func(y int, dst []uint8) {
			i := m.PixOffset(b.Min.X, y)
			for x, v := range m.Pix[i : i+w] {
				p := lut[v]
				dst[4*x+0], dst[4*x+1], dst[4*x+2], dst[4*x+3] = p[0], p[1], p[2], 0xff
			}
		}
	case image.RGBA64Image:
		return func(y int, dst []uint8) {
			for x := 0; x < w; x++ {
				c := m.RGBA64At(b.Min.X+x, y)
				p := over16(uint32(c.R), uint32(c.G), uint32(c.B), uint32(c.A))
				dst[4*x+0], dst[4*x+1], dst[4*x+2], dst[4*x+3] = p[0], p[1], p[2], 0xff
			}
		}
	}
	return func(y int, dst []uint8) {
		for x := 0; x < w; x++ {
			p := over16(img.At(b.Min.X+x, y).RGBA())
			dst[4*x+0], dst[4*x+1], dst[4*x+2], dst[4*x+3] = p[0], p[1], p[2], 0xff
		}
	}
}

// chromaDivisors returns how many luma columns and rows share one chroma
// sample.
func chromaDivisors(r image.YCbCrSubsampleRatio) (hdiv, vdiv int) {
	switch r {
	case image.YCbCrSubsampleRatio422:
		return 2, 1
	case image.YCbCrSubsampleRatio420:
		return 2, 2
	case image.YCbCrSubsampleRatio440:
		return 1, 2
	case image.YCbCrSubsampleRatio411:
		return 4, 1
	case image.YCbCrSubsampleRatio410:
		return 4, 2
	}
	return 1, 1
}

// overWhitePremul composites the premultiplied 8-bit component c with alpha a
// over white.
func overWhitePremul(c, a uint8) uint8 {
	v := int(c) + 255 - int(a)
	if v > 255 {
		v = 255
	}
	return uint8(v)
}

// overWhite composites the non-premultiplied 8-bit component c with alpha a
// over white, rounding to nearest.
func overWhite(c uint8, a uint32) uint8 {
	return uint8((uint32(c)*a + 255*(255-a) + 127) / 255)
}

// over16 composites a premultiplied 16-bit colour over white and rounds it to
// 8 bits.
func over16(r, g, b, a uint32) [3]uint8 {
	f := func(c uint32) uint8 {
		v := c + 0xffff - a
		if v > 0xffff {
			v = 0xffff
		}
		return uint8((v*255 + 32767) / 65535)
	}
	return [3]uint8{f(r), f(g), f(b)}
}

// webpColour converts the YCbCr images of the lossy WebP decoder, whose
// samples are limited range (BT.601 "studio swing", Y in [16, 235]) although
// image.YCbCr treats them as full range, to RGB: *image.YCbCr becomes
// *image.RGBA and *image.NYCbCrA becomes *image.NRGBA. Chroma is upsampled by
// nearest neighbour, as libwebp's dwebp -nofancy does. Other images are
// returned unchanged.
func webpColour(img image.Image) image.Image {
	var (
		m     *image.YCbCr
		alpha []uint8
		astr  int
	)
	switch v := img.(type) {
	case *image.YCbCr:
		m = v
	case *image.NYCbCrA:
		m, alpha, astr = &v.YCbCr, v.A, v.AStride
	default:
		return img
	}
	b := m.Rect
	w, h := b.Dx(), b.Dy()
	hdiv, vdiv := chromaDivisors(m.SubsampleRatio)
	var (
		pix    []uint8
		stride = 4 * w
		out    image.Image
	)
	if alpha == nil {
		o := image.NewRGBA(b)
		pix, out = o.Pix, o
	} else {
		o := image.NewNRGBA(b)
		pix, out = o.Pix, o
	}
	for y := 0; y < h; y++ {
		yi := y * m.YStride
		ci := ((b.Min.Y+y)/vdiv - b.Min.Y/vdiv) * m.CStride
		cx0 := b.Min.X / hdiv
		d := pix[y*stride : y*stride+stride]
		for x := 0; x < w; x++ {
			c := ci + (b.Min.X+x)/hdiv - cx0
			r, g, bl := limitedYCbCrToRGB(m.Y[yi+x], m.Cb[c], m.Cr[c])
			a := uint8(0xff)
			if alpha != nil {
				a = alpha[y*astr+x]
			}
			d[4*x+0], d[4*x+1], d[4*x+2], d[4*x+3] = r, g, bl, a
		}
	}
	return out
}

// limitedYCbCrToRGB converts a limited-range BT.601 sample to RGB with
// libwebp's fixed-point arithmetic (VP8YUVToR/G/B in src/dsp/yuv.h):
// R = 1.164(Y-16) + 1.596(Cr-128), G = 1.164(Y-16) - 0.391(Cb-128) -
// 0.813(Cr-128), B = 1.164(Y-16) + 2.018(Cb-128).
func limitedYCbCrToRGB(y, cb, cr uint8) (r, g, b uint8) {
	yy := int(y) * 19077 >> 8
	u, v := int(cb), int(cr)
	r = clip8(yy + v*26149>>8 - 14234)
	g = clip8(yy - u*6419>>8 - v*13320>>8 + 8708)
	b = clip8(yy + u*33050>>8 - 17685)
	return
}

// clip8 turns a fixed-point value with 6 fraction bits into a byte,
// clamping to [0, 255].
func clip8(v int) uint8 {
	switch {
	case v < 0:
		return 0
	case v >= 256<<6:
		return 255
	}
	return uint8(v >> 6)
}

// ToRGBA returns img as an opaque *image.RGBA with alpha composited over
// white: the pixels Apply resamples, for drawing the source image. An opaque
// *image.RGBA is returned as is, not copied.
func ToRGBA(img image.Image) *image.RGBA {
	return toOpaqueRGBA(img, 1)
}
