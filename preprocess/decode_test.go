package preprocess

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math/rand"
	"os"
	"strings"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

func encodePNG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngHeader returns a PNG signature and IHDR chunk (with a valid CRC) for a
// w x h 8-bit RGB image, and nothing else.
func pngHeader(w, h uint32) []byte {
	ihdr := make([]byte, 4, 17)
	copy(ihdr, "IHDR")
	ihdr = binary.BigEndian.AppendUint32(ihdr, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0) // bit depth 8, colour type RGB
	b := []byte("\x89PNG\r\n\x1a\n")
	b = binary.BigEndian.AppendUint32(b, 13)
	b = append(b, ihdr...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(ihdr))
}

// withJPEGSize rewrites the dimensions in the SOF0 segment of a baseline
// JPEG, as a file that lies about its size would.
func withJPEGSize(t *testing.T, data []byte, w, h uint16) []byte {
	t.Helper()
	out := bytes.Clone(data)
	i := bytes.Index(out, []byte{0xff, 0xc0})
	if i < 0 {
		t.Fatal("no SOF0 marker")
	}
	binary.BigEndian.PutUint16(out[i+5:], h)
	binary.BigEndian.PutUint16(out[i+7:], w)
	return out
}

// withMarker replaces the first marker old of a JPEG with new.
func withMarker(t *testing.T, data []byte, old, new byte) []byte {
	t.Helper()
	out := bytes.Clone(data)
	i := bytes.Index(out, []byte{0xff, old})
	if i < 0 {
		t.Fatalf("no marker %#x", old)
	}
	out[i+1] = new
	return out
}

func TestDecodeErrors(t *testing.T) {
	small := randomNRGBA(11, 0, 0, 32, 24)
	jpg := encodeJPEG(t, small)
	pngData := encodePNG(t, small)
	random := make([]byte, 1000)
	rand.New(rand.NewSource(1)).Read(random)
	random[0] = 0x42 // not a TIFF, GIF or BMP magic by chance

	tests := []struct {
		name    string
		data    []byte
		kind    error
		wantMsg string
	}{
		{"empty", nil, ErrUnsupported, "not a supported image (the file is empty)"},
		{"random bytes", random, ErrUnsupported, "not a supported image (unknown data starting 42 "},
		{"text", []byte("hello, world\n"), ErrUnsupported, "(text; expected JPEG, PNG, GIF, WebP, BMP or TIFF)"},
		{"svg", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>`), ErrUnsupported, "(SVG;"},
		{"heic", []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), ErrUnsupported, "(HEIC/HEIF;"},
		{"avif", []byte("\x00\x00\x00\x1cftypavif\x00\x00\x00\x00"), ErrUnsupported, "(AVIF;"},
		{"truncated JPEG", jpg[:len(jpg)/2], ErrCorrupt, "corrupt JPEG: file is truncated or damaged (short Huffman data)"},
		{"JPEG cut in headers", jpg[:100], ErrCorrupt, "corrupt JPEG: file is truncated (unexpected EOF)"},
		{"JPEG header only", jpg[:2], ErrCorrupt, "corrupt JPEG:"},
		{"truncated PNG", pngData[:len(pngData)-20], ErrCorrupt, "corrupt PNG:"},
		{"PNG without data", pngHeader(32, 24), ErrCorrupt, "corrupt PNG: file is truncated"},
		{"PNG bad checksum", append(pngHeader(32, 24)[:29], 0, 0, 0, 0), ErrCorrupt, "corrupt PNG: invalid checksum"},
		{"JPEG arithmetic coding", withMarker(t, jpg, 0xc0, 0xc9), ErrUnsupported, "not a supported image (JPEG using arithmetic coding)"},
		// Only a header: the size must be refused before any pixel is decoded
		// (decoding would report a truncated file instead).
		{"PNG 10000x10000", pngHeader(10000, 10000), ErrTooLarge, "image is 10000x10000 = 100 MP, over the 50 MP limit"},
		{"PNG 12000x9000", pngHeader(12000, 9000), ErrTooLarge, "image is 12000x9000 = 108 MP, over the 50 MP limit"},
		{"PNG just over", pngHeader(7072, 7071), ErrTooLarge, "= 50.006112 MP, over the 50 MP limit"},
		{"PNG thin strip", pngHeader(10100, 100), ErrTooLarge, "10100x100, more elongated than the 100:1 aspect ratio limit"},
		{"JPEG 60000x40000", withJPEGSize(t, jpg, 60000, 40000), ErrTooLarge, "image is 60000x40000 = 2400 MP"},
		{"JPEG 0 wide", withJPEGSize(t, jpg, 0, 24), ErrCorrupt, "corrupt JPEG:"},
		{"GIF header only", []byte("GIF89a\x10\x00\x10\x00\x00\x00\x00"), ErrCorrupt, "corrupt GIF:"},
		{"BMP header only", []byte("BM\x00\x00\x00\x00\x00\x00\x00\x00"), ErrCorrupt, "corrupt BMP:"},
		{"TIFF header only", []byte("II*\x00\x08\x00\x00\x00"), ErrCorrupt, "corrupt TIFF:"},
		{"WebP header only", []byte("RIFF\x1a\x00\x00\x00WEBPVP8 "), ErrCorrupt, "corrupt WebP:"},
	}
	for _, tt := range tests {
		img, _, err := Decode(tt.data)
		if err == nil {
			t.Errorf("%s: Decode succeeded with a %v image", tt.name, img.Bounds())
			continue
		}
		if !errors.Is(err, tt.kind) || !strings.Contains(err.Error(), tt.wantMsg) {
			t.Errorf("%s: error %q, want %v containing %q", tt.name, err, tt.kind, tt.wantMsg)
		}
		if img != nil {
			t.Errorf("%s: image returned with an error", tt.name)
		}
	}
}

func TestDecodeFormats(t *testing.T) {
	src := randomNRGBA(21, 0, 0, 20, 14)
	opaque := rgbOf(src, 0, 0, 20, 14)
	encode := func(f func(*bytes.Buffer) error) []byte {
		var b bytes.Buffer
		if err := f(&b); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	// A GIF with a transparent palette entry, two frames: the first one counts.
	frame := image.NewPaletted(src.Rect, []color.Color{color.RGBA{200, 10, 10, 255}, color.Transparent})
	frame.SetColorIndex(3, 4, 1)
	frame2 := image.NewPaletted(src.Rect, []color.Color{color.RGBA{0, 0, 255, 255}})
	gifWant := rgbOf(frame, 0, 0, 20, 14)
	gifWant[3*(4*20+3)+0], gifWant[3*(4*20+3)+1], gifWant[3*(4*20+3)+2] = 255, 255, 255
	// A 256-colour GIF of the image: compare with the quantised image.
	quant := image.NewPaletted(src.Rect, palette.Plan9)
	draw.Draw(quant, quant.Rect, src, image.Point{}, draw.Src)

	tests := []struct {
		name, format string
		data         []byte
		want         []uint8
	}{
		{"PNG", "png", encodePNG(t, src), opaque},
		{"BMP", "bmp", encode(func(b *bytes.Buffer) error { return bmp.Encode(b, src) }), opaque},
		{"TIFF", "tiff", encode(func(b *bytes.Buffer) error { return tiff.Encode(b, src, nil) }), opaque},
		{"TIFF deflate", "tiff", encode(func(b *bytes.Buffer) error {
			return tiff.Encode(b, src, &tiff.Options{Compression: tiff.Deflate, Predictor: true})
		}), opaque},
		{"GIF", "gif", encode(func(b *bytes.Buffer) error { return gif.Encode(b, quant, nil) }), rgbOf(quant, 0, 0, 20, 14)},
		{"GIF animated", "gif", encode(func(b *bytes.Buffer) error {
			return gif.EncodeAll(b, &gif.GIF{Image: []*image.Paletted{frame, frame2}, Delay: []int{10, 10}})
		}), gifWant},
	}
	for _, tt := range tests {
		img, format, err := Decode(tt.data)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if format != tt.format {
			t.Errorf("%s: format %q, want %q", tt.name, format, tt.format)
		}
		b := img.Bounds()
		if b.Dx() != 20 || b.Dy() != 14 {
			t.Errorf("%s: decoded %v, want 20x14", tt.name, b)
			continue
		}
		got := rgbOf(toOpaqueRGBA(img, 1), 0, 0, 20, 14)
		if maxd, _ := diff(got, tt.want); maxd != 0 {
			t.Errorf("%s: pixels differ by up to %d levels from the encoded image", tt.name, maxd)
		}
	}

	// JPEG is lossy: a smooth image must come back close to the original.
	smooth := image.NewNRGBA(image.Rect(0, 0, 32, 32))
	for y := 0; y < 32; y++ {
		for x := 0; x < 32; x++ {
			smooth.SetNRGBA(x, y, color.NRGBA{uint8(8 * x), uint8(8 * y), 128, 255})
		}
	}
	img, format, err := Decode(encodeJPEG(t, smooth))
	if err != nil || format != "jpeg" {
		t.Fatalf("JPEG: format %q, %v", format, err)
	}
	if maxd, mean := diff(rgbOf(img, 0, 0, 32, 32), rgbOf(smooth, 0, 0, 32, 32)); maxd > 12 || mean > 3 {
		t.Errorf("JPEG: differs from the original by up to %d levels, mean %.2f", maxd, mean)
	}
}

// exifJPEG inserts an APP1 Exif segment with the given Orientation into a
// JPEG, after an APP0 JFIF segment and an APP1 XMP segment, as cameras and
// editors write them. Byte order alternates with the orientation.
func exifJPEG(jpg []byte, orientation uint16) []byte {
	var bo binary.AppendByteOrder = binary.LittleEndian
	tiffHdr := []byte("II*\x00\x08\x00\x00\x00")
	if orientation%2 == 0 {
		bo = binary.BigEndian
		tiffHdr = []byte("MM\x00*\x00\x00\x00\x08")
	}
	ifd := bo.AppendUint16(nil, 2) // two entries
	// XResolution-like unrelated tag first, then Orientation (SHORT, 1).
	ifd = bo.AppendUint16(ifd, 0x010f) // Make, ASCII, 4 bytes inline
	ifd = bo.AppendUint16(ifd, 2)
	ifd = bo.AppendUint32(ifd, 4)
	ifd = append(ifd, 'G', 'o', '!', 0)
	ifd = bo.AppendUint16(ifd, 0x0112)
	ifd = bo.AppendUint16(ifd, 3)
	ifd = bo.AppendUint32(ifd, 1)
	ifd = bo.AppendUint16(ifd, orientation)
	ifd = append(ifd, 0, 0)
	ifd = bo.AppendUint32(ifd, 0) // no next IFD
	payload := append([]byte("Exif\x00\x00"), tiffHdr...)
	payload = append(payload, ifd...)

	segment := func(marker byte, body []byte) []byte {
		s := []byte{0xff, marker}
		s = binary.BigEndian.AppendUint16(s, uint16(len(body)+2))
		return append(s, body...)
	}
	out := []byte{0xff, 0xd8}
	out = append(out, segment(0xe0, []byte("JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"))...)
	out = append(out, segment(0xe1, []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta/>"))...)
	out = append(out, segment(0xe1, payload)...)
	return append(out, jpg[2:]...)
}

func TestEXIFOrientation(t *testing.T) {
	// A 48x32 image of four 24x16 quadrants: R G on top, B W below.
	var (
		red   = color.RGBA{255, 0, 0, 255}
		green = color.RGBA{0, 255, 0, 255}
		blue  = color.RGBA{0, 0, 255, 255}
		white = color.RGBA{255, 255, 255, 255}
	)
	src := image.NewRGBA(image.Rect(0, 0, 48, 32))
	for y := 0; y < 32; y++ {
		for x := 0; x < 48; x++ {
			c := [2][2]color.RGBA{{red, green}, {blue, white}}[y/16][x/24]
			src.SetRGBA(x, y, c)
		}
	}
	jpg := encodeJPEG(t, src)
	// How each orientation shows the stored quadrants [[R G] [B W]],
	// worked out from the EXIF specification's row/column descriptions.
	type quads [2][2]color.RGBA
	tests := []struct {
		o, parsed int // tag value written, orientation expected
		w, h      int
		want      quads
	}{
		{1, 1, 48, 32, quads{{red, green}, {blue, white}}},
		{2, 2, 48, 32, quads{{green, red}, {white, blue}}}, // mirrored left-right
		{3, 3, 48, 32, quads{{white, blue}, {green, red}}}, // rotated 180
		{4, 4, 48, 32, quads{{blue, white}, {red, green}}}, // mirrored top-bottom
		{5, 5, 32, 48, quads{{red, blue}, {green, white}}}, // transposed
		{6, 6, 32, 48, quads{{blue, red}, {white, green}}}, // rotated 90 clockwise
		{7, 7, 32, 48, quads{{white, green}, {blue, red}}}, // transverse
		{8, 8, 32, 48, quads{{green, white}, {red, blue}}}, // rotated 90 counter-clockwise
		{0, 1, 48, 32, quads{{red, green}, {blue, white}}}, // invalid values are ignored
		{9, 1, 48, 32, quads{{red, green}, {blue, white}}},
	}
	for _, tt := range tests {
		data := exifJPEG(jpg, uint16(tt.o))
		if got := jpegOrientation(data); got != tt.parsed {
			t.Errorf("orientation %d: jpegOrientation = %d, want %d", tt.o, got, tt.parsed)
		}
		img, format, err := Decode(data)
		if err != nil || format != "jpeg" {
			t.Fatalf("orientation %d: format %q, %v", tt.o, format, err)
		}
		b := img.Bounds()
		if b.Dx() != tt.w || b.Dy() != tt.h {
			t.Errorf("orientation %d: decoded %dx%d, want %dx%d", tt.o, b.Dx(), b.Dy(), tt.w, tt.h)
			continue
		}
		for qy := 0; qy < 2; qy++ {
			for qx := 0; qx < 2; qx++ {
				// Centre of the quadrant, away from JPEG's blurred edges.
				x, y := b.Min.X+qx*tt.w/2+tt.w/4, b.Min.Y+qy*tt.h/2+tt.h/4
				got := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
				want := tt.want[qy][qx]
				if absDiff(got.R, want.R) > 24 || absDiff(got.G, want.G) > 24 || absDiff(got.B, want.B) > 24 {
					t.Errorf("orientation %d: quadrant (%d, %d) is %v, want %v", tt.o, qx, qy, got, want)
				}
			}
		}
	}
}

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

func TestJPEGOrientationGarbage(t *testing.T) {
	valid := func(mutate func(seg []byte) []byte) []byte {
		// SOI, APP1 Exif (big-endian) with one Orientation=6 entry, SOS.
		tiffPart := []byte("MM\x00*\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00\x00\x00\x00\x00")
		seg := mutate(append([]byte("Exif\x00\x00"), tiffPart...))
		out := []byte{0xff, 0xd8, 0xff, 0xe1}
		out = binary.BigEndian.AppendUint16(out, uint16(len(seg)+2))
		out = append(out, seg...)
		return append(out, 0xff, 0xda, 0, 2)
	}
	keep := func(s []byte) []byte { return s }
	set := func(i int, v ...byte) func([]byte) []byte {
		return func(s []byte) []byte { copy(s[i:], v); return s }
	}
	// Offsets inside the segment: "Exif\0\0", then the TIFF header (byte
	// order, magic, IFD offset), the entry count and one 12-byte entry.
	const (
		order, magic, ifdOff, count = 6, 8, 10, 14
		tag, typ, n, value          = 16, 18, 20, 24
	)
	tests := []struct {
		name string
		data []byte
		want int
	}{
		{"valid", valid(keep), 6},
		{"LONG type", valid(func(s []byte) []byte { return set(value, 0, 0, 0, 6)(set(typ, 0, 4)(s)) }), 6},
		{"fill bytes before marker", append([]byte{0xff, 0xd8, 0xff, 0xff}, valid(keep)[2:]...), 6},
		{"not JPEG", valid(keep)[1:], 1},
		{"empty", nil, 1},
		{"truncated segment", valid(keep)[:20], 1},
		{"segment length 0", append([]byte{0xff, 0xd8, 0xff, 0xe1, 0, 0}, valid(keep)[2:]...), 1},
		{"segment length past end", []byte{0xff, 0xd8, 0xff, 0xe1, 0xff, 0xff, 'E'}, 1},
		{"no Exif header", valid(set(0, 'X')), 1},
		{"bad byte order", valid(set(order, 'X', 'X')), 1},
		{"mixed byte order", valid(set(order, 'I', 'I')), 1},
		{"bad magic", valid(set(magic, 0, 43)), 1},
		{"IFD offset past end", valid(set(ifdOff, 0xff, 0xff, 0xff, 0xf0)), 1},
		{"IFD offset inside header", valid(set(ifdOff, 0, 0, 0, 2)), 1},
		{"entry count past end", valid(func(s []byte) []byte { return set(tag, 1, 0x13)(set(count, 0xff, 0xff)(s)) }), 1},
		{"wrong type", valid(set(typ, 0, 7)), 1},
		{"zero count", valid(set(n, 0, 0, 0, 0)), 1},
		{"value 0", valid(set(value, 0, 0)), 1},
		{"value 200", valid(set(value, 0, 200)), 1},
		{"other tag", valid(set(tag, 0x01, 0x13)), 1},
		{"Exif after SOS ignored", append([]byte{0xff, 0xd8, 0xff, 0xda, 0, 2}, valid(keep)[2:]...), 1},
		{"garbage between segments", append([]byte{0xff, 0xd8, 0x00}, valid(keep)[2:]...), 1},
		{"restart marker skipped", append([]byte{0xff, 0xd8, 0xff, 0xd0}, valid(keep)[2:]...), 6},
	}
	for _, tt := range tests {
		if got := jpegOrientation(tt.data); got != tt.want {
			t.Errorf("%s: jpegOrientation = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// TestWebP checks the x/image WebP decoder output against libwebp's own
// decoding (dwebp -nofancy, see testdata/gen_webp.py) and the synthetic
// colours the files were made from.
func TestWebP(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	decode := func(name string) image.Image {
		img, format, err := Decode(read(name))
		if err != nil || format != "webp" && format != "png" {
			t.Fatalf("%s: format %q, %v", name, format, err)
		}
		return img
	}
	// nrgbaOf returns the non-premultiplied pixels of img.
	nrgbaOf := func(img image.Image) []uint8 {
		b := img.Bounds()
		out := image.NewNRGBA(b)
		draw.Draw(out, b, img, b.Min, draw.Src)
		return out.Pix
	}
	src := decode("webp_src.png")
	srcRGB := NewTransform(Squash, 64, 64, 48).Apply(src) // over white
	const w, h = 64, 48

	t.Run("lossy", func(t *testing.T) {
		img := decode("webp_lossy.webp")
		if _, ok := img.(*image.RGBA); !ok {
			t.Errorf("lossy WebP decoded to %T, want *image.RGBA", img)
		}
		got := rgbOf(img, 0, 0, w, h)
		ref := rgbOf(decode("webp_lossy_ref.png"), 0, 0, w, h)
		maxd, mean := diff(got, ref)
		t.Logf("lossy WebP vs dwebp -nofancy: max %d, mean %.3f levels", maxd, mean)
		if maxd > 1 {
			t.Errorf("lossy WebP differs from libwebp by up to %d levels", maxd)
		}
		// The flat opaque blocks keep their colours (the source was encoded
		// without alpha, so the translucent block is its raw colour).
		for _, blk := range []struct{ bx, by int }{{0, 0}, {1, 0}, {2, 0}, {3, 0}, {0, 1}, {1, 1}, {2, 1}, {3, 1}, {0, 2}} {
			x, y := 16*blk.bx+8, 16*blk.by+8
			g := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			s := color.NRGBAModel.Convert(src.At(x, y)).(color.NRGBA)
			if absDiff(g.R, s.R) > 4 || absDiff(g.G, s.G) > 4 || absDiff(g.B, s.B) > 4 {
				t.Errorf("block (%d, %d): decoded %v, source %v", blk.bx, blk.by, g, s)
			}
		}
	})
	t.Run("lossy with alpha", func(t *testing.T) {
		img := decode("webp_alpha.webp")
		if _, ok := img.(*image.NRGBA); !ok {
			t.Errorf("lossy WebP with alpha decoded to %T, want *image.NRGBA", img)
		}
		got, ref := nrgbaOf(img), nrgbaOf(decode("webp_alpha_ref.png"))
		maxd := 0
		for i := 0; i < len(got); i += 4 {
			if got[i+3] != ref[i+3] {
				t.Fatalf("alpha differs at pixel %d: %d, libwebp %d", i/4, got[i+3], ref[i+3])
			}
			if ref[i+3] == 0 {
				continue // colour under full transparency is irrelevant
			}
			for c := 0; c < 3; c++ {
				maxd = max(maxd, absDiff(got[i+c], ref[i+c]))
			}
		}
		t.Logf("lossy WebP with alpha vs dwebp -nofancy: max %d levels", maxd)
		if maxd > 1 {
			t.Errorf("lossy WebP with alpha differs from libwebp by up to %d levels", maxd)
		}
		rgb := NewTransform(Squash, 64, 64, 48).Apply(img)
		if maxd, mean := diff(rgb, srcRGB); maxd > 16 || mean > 2 {
			t.Errorf("over white: up to %d levels (mean %.2f) from the source", maxd, mean)
		}
	})
	t.Run("lossless", func(t *testing.T) {
		got, want := nrgbaOf(decode("webp_lossless.webp")), nrgbaOf(src)
		if !bytes.Equal(got, want) {
			t.Errorf("lossless WebP differs from its source")
		}
	})
}

func TestLimitedYCbCrToRGB(t *testing.T) {
	// BT.601 limited range: Y 16 is black, Y 235 white, grey stays grey;
	// the reference is the floating-point formula.
	ref := func(y, cb, cr float64) [3]float64 {
		yy := 1.164383 * (y - 16)
		return [3]float64{
			yy + 1.596027*(cr-128),
			yy - 0.391762*(cb-128) - 0.812968*(cr-128),
			yy + 2.017232*(cb-128),
		}
	}
	worst := 0.0
	for y := 0; y < 256; y += 3 {
		for cb := 0; cb < 256; cb += 5 {
			for cr := 0; cr < 256; cr += 7 {
				r, g, b := limitedYCbCrToRGB(uint8(y), uint8(cb), uint8(cr))
				for i, v := range ref(float64(y), float64(cb), float64(cr)) {
					v = min(max(v, 0), 255)
					got := float64([3]uint8{r, g, b}[i])
					worst = max(worst, max(got-v, v-got))
				}
			}
		}
	}
	if worst > 1.0 {
		t.Errorf("fixed-point conversion is up to %.2f levels from the formula", worst)
	}
	for _, tt := range []struct{ y, want uint8 }{{16, 0}, {235, 255}, {0, 0}, {255, 255}, {126, 128}} {
		r, g, b := limitedYCbCrToRGB(tt.y, 128, 128)
		if r != tt.want || g != tt.want || b != tt.want {
			t.Errorf("Y=%d grey: got (%d, %d, %d), want %d", tt.y, r, g, b, tt.want)
		}
	}
}

// fuzzSeeds returns small valid and broken files of every format.
func fuzzSeeds(t testing.TB) [][]byte {
	m := randomNRGBA(9, 0, 0, 9, 7)
	seeds := [][]byte{encodePNG(t, m), encodeJPEG(t, m), pngHeader(9, 7)}
	var b bytes.Buffer
	gif.Encode(&b, m, nil)
	seeds = append(seeds, bytes.Clone(b.Bytes()))
	b.Reset()
	bmp.Encode(&b, m)
	seeds = append(seeds, bytes.Clone(b.Bytes()))
	b.Reset()
	tiff.Encode(&b, m, nil)
	seeds = append(seeds, bytes.Clone(b.Bytes()))
	seeds = append(seeds, exifJPEG(encodeJPEG(t, m), 6))
	for _, name := range []string{"webp_lossy.webp", "webp_alpha.webp", "webp_lossless.webp"} {
		if data, err := os.ReadFile("testdata/" + name); err == nil {
			seeds = append(seeds, data)
		}
	}
	return seeds
}

func FuzzDecode(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if o := jpegOrientation(data); o < 1 || o > 8 {
			t.Fatalf("jpegOrientation = %d", o)
		}
		img, _, err := Decode(data)
		if err != nil {
			if img != nil {
				t.Fatal("image returned with an error")
			}
			return
		}
		b := img.Bounds()
		n := b.Dx() * b.Dy()
		if n <= 0 || n > MaxPixels {
			t.Fatalf("decoded %v", b)
		}
		if n <= 1<<16 {
			for _, mode := range []Mode{Squash, Crop} {
				if got := NewTransform(mode, 8, b.Dx(), b.Dy()).Apply(img); len(got) != 8*8*3 {
					t.Fatalf("Apply returned %d bytes", len(got))
				}
			}
		}
	})
}
