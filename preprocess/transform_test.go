package preprocess

import (
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseMode(t *testing.T) {
	tests := []struct {
		in      string
		want    Mode
		wantErr bool
	}{
		{"squash", Squash, false},
		{"crop", Crop, false},
		{" Crop\n", Crop, false},
		{"SQUASH", Squash, false},
		{"", "", true},
		{"center", "", true},
	}
	for _, tt := range tests {
		got, err := ParseMode(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseMode(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestNewTransformGeometry(t *testing.T) {
	// Expected sizes worked out by hand: the shorter side goes to
	// round(size*256/224), the longer one to round(long*short_target/short),
	// halves rounded up, and the crop is centred with the offset rounded down.
	tests := []struct {
		mode               Mode
		size, w, h         int
		rw, rh, offX, offY int
	}{
		{Squash, 224, 640, 480, 224, 224, 0, 0},
		{Squash, 224, 1, 1, 224, 224, 0, 0},
		{Squash, 128, 128, 128, 128, 128, 0, 0},
		{Crop, 224, 640, 480, 341, 256, 58, 16},  // 640*256/480 = 341.33
		{Crop, 224, 480, 640, 256, 341, 16, 58},  // portrait
		{Crop, 224, 333, 500, 256, 384, 16, 80},  // 500*256/333 = 384.38
		{Crop, 224, 513, 512, 257, 256, 16, 16},  // 513*256/512 = 256.5 rounds up
		{Crop, 224, 1000, 999, 256, 256, 16, 16}, // 256.26
		{Crop, 224, 256, 256, 256, 256, 16, 16},  // already at the target
		{Crop, 224, 2000, 1000, 512, 256, 144, 16},
		{Crop, 32, 160, 96, 62, 37, 15, 2},      // short side round(36.57) = 37; 61.67 -> 62
		{Crop, 7, 10, 10, 8, 8, 0, 0},           // 7*256/224 = 8 exactly
		{Crop, 225, 300, 300, 257, 257, 16, 16}, // 225*256/224 = 257.14
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s/%d/%dx%d", tt.mode, tt.size, tt.w, tt.h)
		got := NewTransform(tt.mode, tt.size, tt.w, tt.h)
		want := Transform{Mode: tt.mode, Size: tt.size, SrcW: tt.w, SrcH: tt.h,
			ResizedW: tt.rw, ResizedH: tt.rh, OffX: tt.offX, OffY: tt.offY}
		if got != want {
			t.Errorf("%s: NewTransform = %+v, want %+v", name, got, want)
		}
	}
}

func TestCheckTransform(t *testing.T) {
	tests := []struct {
		mode       Mode
		size, w, h int
		wantErr    string
	}{
		{Squash, 224, 10, 10, ""},
		{"fit", 224, 10, 10, "unknown mode"},
		{Crop, 0, 10, 10, "size 0 out of range"},
		{Crop, MaxSize + 1, 10, 10, "out of range"},
		{Crop, 224, 0, 10, "no pixels"},
		{Crop, 224, 10, -1, "no pixels"},
		{Squash, 224, 10000, 10000, "pixel limit"},
	}
	for _, tt := range tests {
		err := CheckTransform(tt.mode, tt.size, tt.w, tt.h)
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("CheckTransform(%q, %d, %d, %d) = %v, want error containing %q", tt.mode, tt.size, tt.w, tt.h, err, tt.wantErr)
		}
	}
}

func TestToSource(t *testing.T) {
	type box [4]float64
	tests := []struct {
		name string
		t    Transform
		in   box
		want box
	}{
		{"squash whole", NewTransform(Squash, 224, 640, 480), box{0, 0, 224, 224}, box{0, 0, 640, 480}},
		{"squash patch", NewTransform(Squash, 224, 640, 480), box{112, 56, 168, 112}, box{320, 120, 480, 240}},
		{"squash upscale", NewTransform(Squash, 224, 56, 112), box{8, 16, 40, 48}, box{2, 8, 10, 24}},
		// 640x480 -> 341x256, crop at (58, 16); source pixels per resized pixel: 640/341 and 480/256.
		{"crop whole", NewTransform(Crop, 224, 640, 480), box{0, 0, 224, 224},
			box{58 * 640.0 / 341, 30, 282 * 640.0 / 341, 450}},
		{"crop patch", NewTransform(Crop, 224, 640, 480), box{10, 32, 43, 65},
			box{68 * 640.0 / 341, 90, 101 * 640.0 / 341, 151.875}},
		// 1000x2000 -> 256x512, crop at (16, 144); exactly 1000/256 source pixels each way.
		{"crop portrait", NewTransform(Crop, 224, 1000, 2000), box{0, 0, 224, 224},
			box{62.5, 562.5, 937.5, 1437.5}},
		// Already at the target: the crop offset only.
		{"crop identity", NewTransform(Crop, 224, 256, 300), box{0, 0, 224, 224}, box{16, 38, 240, 262}},
	}
	for _, tt := range tests {
		a, b, c, d := tt.t.ToSource(tt.in[0], tt.in[1], tt.in[2], tt.in[3])
		got := box{a, b, c, d}
		for i := range got {
			if math.Abs(got[i]-tt.want[i]) > 1e-9 {
				t.Errorf("%s: ToSource%v = %v, want %v", tt.name, tt.in, got, tt.want)
				break
			}
		}
	}
}

// randomNRGBA returns a w x h image of seeded random opaque colours whose
// bounds start at (ox, oy).
func randomNRGBA(seed int64, ox, oy, w, h int) *image.NRGBA {
	r := rand.New(rand.NewSource(seed))
	m := image.NewNRGBA(image.Rect(ox, oy, ox+w, oy+h))
	r.Read(m.Pix)
	for i := 3; i < len(m.Pix); i += 4 {
		m.Pix[i] = 0xff
	}
	return m
}

// rgbOf returns the RGB bytes of the window (x, y, w, h) of an opaque image,
// read with At.
func rgbOf(m image.Image, x0, y0, w, h int) []uint8 {
	var out []uint8
	b := m.Bounds()
	for y := y0; y < y0+h; y++ {
		for x := x0; x < x0+w; x++ {
			c := color.RGBAModel.Convert(m.At(b.Min.X+x, b.Min.Y+y)).(color.RGBA)
			out = append(out, c.R, c.G, c.B)
		}
	}
	return out
}

func TestApplyPassThrough(t *testing.T) {
	tests := []struct {
		name         string
		mode         Mode
		size         int
		img          image.Image
		cropX, cropY int
	}{
		{"squash", Squash, 128, randomNRGBA(1, 0, 0, 128, 128), 0, 0},
		{"squash offset bounds", Squash, 64, randomNRGBA(2, 5, -7, 64, 64), 0, 0},
		// Shorter side 256 = round(224*256/224): crop only, at ((256-224)/2, (300-224)/2).
		{"crop", Crop, 224, randomNRGBA(3, 0, 0, 256, 300), 16, 38},
		{"crop 32", Crop, 32, randomNRGBA(4, 3, 3, 50, 37), 9, 2},
	}
	for _, tt := range tests {
		b := tt.img.Bounds()
		tr := NewTransform(tt.mode, tt.size, b.Dx(), b.Dy())
		if tr.ResizedW != b.Dx() || tr.ResizedH != b.Dy() {
			t.Fatalf("%s: test image %v is not at the resized size %dx%d", tt.name, b, tr.ResizedW, tr.ResizedH)
		}
		got := tr.Apply(tt.img)
		want := rgbOf(tt.img, tt.cropX, tt.cropY, tt.size, tt.size)
		if string(got) != string(want) {
			t.Errorf("%s: Apply changed the pixels of an image already at the target size", tt.name)
		}
	}
}

func TestApplyOneAxisUnchanged(t *testing.T) {
	// Squashing 64x100 to 64x64 only resamples vertically: every column must
	// be the 1-D resampling of the same source column, so a vertical stripe
	// pattern survives exactly.
	m := image.NewNRGBA(image.Rect(0, 0, 64, 100))
	for y := 0; y < 100; y++ {
		for x := 0; x < 64; x++ {
			v := uint8(x * 37)
			m.SetNRGBA(x, y, color.NRGBA{v, 255 - v, v ^ 0x55, 255})
		}
	}
	got := NewTransform(Squash, 64, 64, 100).Apply(m)
	want := rgbOf(m, 0, 0, 64, 64)
	if string(got) != string(want) {
		t.Errorf("resampling along one axis altered the other")
	}
}

// refCase is one entry of testdata/resize_ref.json.
type refCase struct {
	Name, File, Kind string
	W, H, Size       int
	Resized, Offset  []int
}

func loadPNG(t *testing.T, name string) *image.RGBA {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	img, format, err := Decode(data)
	if err != nil || format != "png" {
		t.Fatalf("decoding %s: format %q, %v", name, format, err)
	}
	return toOpaqueRGBA(img, 1)
}

func diff(a, b []uint8) (maxd int, mean float64) {
	sum := 0
	for i := range a {
		d := int(a[i]) - int(b[i])
		if d < 0 {
			d = -d
		}
		sum += d
		maxd = max(maxd, d)
	}
	return maxd, float64(sum) / float64(len(a))
}

// TestResizeMatchesPyTorch compares the resampling with references made by
// F.interpolate(mode="bilinear", antialias=True, align_corners=False) (see
// testdata/gen_resize_ref.py), along both of draw's paths.
func TestResizeMatchesPyTorch(t *testing.T) {
	data, err := os.ReadFile("testdata/resize_ref.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Source string
		Cases  []refCase
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	src := loadPNG(t, ref.Source)
	sw, sh := src.Bounds().Dx(), src.Bounds().Dy()
	for _, path := range []struct {
		name string
		buf  int
	}{{"Scale", maxScaleBuffer}, {"Transform", 0}} {
		saved := maxScaleBuffer
		maxScaleBuffer = path.buf
		for _, c := range ref.Cases {
			want := rgbOf(loadPNG(t, c.File), 0, 0, max(c.W, c.Size), max(c.H, c.Size))
			var got []uint8
			switch c.Kind {
			case "resize":
				got = rgbOf(resample(src, c.W, c.H, image.Rect(0, 0, c.W, c.H)), 0, 0, c.W, c.H)
			case "squash", "crop":
				mode, _ := ParseMode(c.Kind)
				tr := NewTransform(mode, c.Size, sw, sh)
				if c.Kind == "crop" && (tr.ResizedW != c.Resized[0] || tr.ResizedH != c.Resized[1] ||
					tr.OffX != c.Offset[0] || tr.OffY != c.Offset[1]) {
					t.Errorf("%s: geometry %+v, PyTorch script used resized %v offset %v", c.Name, tr, c.Resized, c.Offset)
				}
				got = tr.Apply(src)
			default:
				t.Fatalf("unknown case kind %q", c.Kind)
			}
			if len(got) != len(want) {
				t.Fatalf("%s: got %d bytes, want %d", c.Name, len(got), len(want))
			}
			maxd, mean := diff(got, want)
			t.Logf("%s path, %s: max abs diff %d, mean %.4f levels", path.name, c.Name, maxd, mean)
			// Rounding differences only: at most one level, rarely, and no bias.
			if maxd > 1 || mean > 0.05 {
				t.Errorf("%s path, %s: max abs diff %d, mean %.3f levels from PyTorch, want <= 1 and <= 0.05",
					path.name, c.Name, maxd, mean)
			}
		}
		maxScaleBuffer = saved
	}
}

func TestAlphaOverWhite(t *testing.T) {
	// Reference: out = c*a + 255*(1-a) with non-premultiplied c and a in [0, 1].
	over := func(c, a uint8) uint8 {
		return uint8(math.Round(float64(c)*float64(a)/255 + 255*(1-float64(a)/255)))
	}
	r := rand.New(rand.NewSource(7))
	const w, h = 16, 16
	nrgba := image.NewNRGBA(image.Rect(0, 0, w, h))
	r.Read(nrgba.Pix)
	nrgba.Pix[3], nrgba.Pix[7] = 0, 255 // fully transparent and opaque pixels
	var want []uint8
	for i := 0; i < len(nrgba.Pix); i += 4 {
		a := nrgba.Pix[i+3]
		want = append(want, over(nrgba.Pix[i], a), over(nrgba.Pix[i+1], a), over(nrgba.Pix[i+2], a))
	}
	// The same colours as premultiplied RGBA, 16-bit NRGBA64 and a palette.
	rgba := image.NewRGBA(nrgba.Rect)
	n64 := image.NewNRGBA64(nrgba.Rect)
	pal := image.NewPaletted(nrgba.Rect, nil)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := nrgba.NRGBAAt(x, y)
			rgba.Set(x, y, c)
			n64.SetNRGBA64(x, y, color.NRGBA64{uint16(c.R) * 0x101, uint16(c.G) * 0x101, uint16(c.B) * 0x101, uint16(c.A) * 0x101})
			if len(pal.Palette) < 256 {
				pal.Palette = append(pal.Palette, c)
				pal.SetColorIndex(x, y, uint8(len(pal.Palette)-1))
			}
		}
	}
	tests := []struct {
		name string
		img  image.Image
		tol  int // premultiplying to 8 bits loses precision at low alpha
	}{
		{"NRGBA", nrgba, 0},
		{"NRGBA64", n64, 0},
		{"Paletted", pal, 1},
		{"RGBA", rgba, 1},
	}
	for _, tt := range tests {
		got := NewTransform(Squash, w, w, h).Apply(tt.img)
		if maxd, _ := diff(got, want); maxd > tt.tol {
			t.Errorf("%s: compositing over white is off by up to %d levels, want <= %d", tt.name, maxd, tt.tol)
		}
	}
}

func TestYCbCrConversion(t *testing.T) {
	// The one-pass conversion must agree with image.YCbCr.At (full range, as
	// JPEG uses) for every subsampling, also for sub-images with odd bounds.
	ratios := []image.YCbCrSubsampleRatio{
		image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420,
		image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410,
	}
	r := rand.New(rand.NewSource(3))
	for _, ratio := range ratios {
		m := image.NewYCbCr(image.Rect(-3, 5, 30, 26), ratio)
		r.Read(m.Y)
		r.Read(m.Cb)
		r.Read(m.Cr)
		for _, img := range []*image.YCbCr{m, m.SubImage(image.Rect(-1, 7, 21, 20)).(*image.YCbCr)} {
			b := img.Bounds()
			got := toOpaqueRGBA(img, 1)
			if string(rgbOf(got, 0, 0, b.Dx(), b.Dy())) != string(rgbOf(img, 0, 0, b.Dx(), b.Dy())) {
				t.Errorf("%v %v: conversion differs from image.YCbCr.At", ratio, b)
			}
		}
	}
}

func TestApplyPanicsOnWrongSize(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Apply accepted an image of the wrong size")
		}
	}()
	NewTransform(Squash, 8, 10, 10).Apply(image.NewRGBA(image.Rect(0, 0, 11, 10)))
}

func TestImage(t *testing.T) {
	png := encodePNG(t, randomNRGBA(5, 0, 0, 40, 30))
	rgb, tr, err := Image(png, Crop, 16)
	if err != nil {
		t.Fatal(err)
	}
	if len(rgb) != 16*16*3 || tr != NewTransform(Crop, 16, 40, 30) {
		t.Errorf("Image: %d bytes, transform %+v", len(rgb), tr)
	}
	for _, tt := range []struct {
		data    []byte
		mode    Mode
		size    int
		wantErr string
	}{
		{png, "fit", 16, "unknown mode"},
		{png, Squash, 0, "out of range"},
		{nil, Squash, 16, "empty"},
	} {
		if _, _, err := Image(tt.data, tt.mode, tt.size); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("Image(%d bytes, %q, %d) error %v, want %q", len(tt.data), tt.mode, tt.size, err, tt.wantErr)
		}
	}
}

// BenchmarkImage measures Decode + Apply on a 12 MP (4000x3000) JPEG.
func BenchmarkImage(b *testing.B) {
	m := image.NewYCbCr(image.Rect(0, 0, 4000, 3000), image.YCbCrSubsampleRatio420)
	r := rand.New(rand.NewSource(1))
	for i := range m.Y {
		m.Y[i] = uint8(i%4000/16) + uint8(r.Intn(8))
	}
	for i := range m.Cb {
		m.Cb[i], m.Cr[i] = uint8(i%2000/8), uint8(i/2000/6)
	}
	data := encodeJPEG(b, m)
	for _, mode := range []Mode{Squash, Crop} {
		b.Run(string(mode), func(b *testing.B) {
			for b.Loop() {
				if _, _, err := Image(data, mode, 224); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("decode", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := Decode(data); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// The page's mapping (the wire type's, in whole pixels) agrees with the
// exact one, which made the input.
func TestWireToSource(t *testing.T) {
	for _, mode := range []Mode{Squash, Crop} {
		for _, src := range [][2]int{{500, 375}, {335, 500}, {640, 426}, {128, 128}} {
			pt := NewTransform(mode, 128, src[0], src[1])
			ut := pt.Wire()
			for _, b := range [][4]int{{0, 0, 128, 128}, {8, 16, 41, 49}, {88, 88, 121, 121}} {
				fx0, fy0, fx1, fy1 := pt.ToSource(float64(b[0]), float64(b[1]), float64(b[2]), float64(b[3]))
				x0, y0, x1, y1, ok := ut.ToSource(b[0], b[1], b[2], b[3])
				want := [4]int{int(math.Floor(fx0 + 1e-9)), int(math.Floor(fy0 + 1e-9)),
					min(src[0], int(math.Ceil(fx1-1e-9))), min(src[1], int(math.Ceil(fy1-1e-9)))}
				if !ok || [4]int{x0, y0, x1, y1} != want {
					t.Errorf("%s %v box %v: got %v, preprocess says %v", mode, src, b, [4]int{x0, y0, x1, y1}, want)
				}
			}
		}
	}
}
