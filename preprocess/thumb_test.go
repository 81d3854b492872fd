package preprocess

import (
	"image"
	"image/color"
	"testing"
)

func TestThumbSize(t *testing.T) {
	for _, tc := range []struct{ w, h, side, tw, th int }{
		{200, 120, 48, 48, 29}, // 28.8 rounds up
		{120, 200, 48, 29, 48},
		{500, 500, 48, 48, 48},
		{1, 1000, 48, 1, 48}, // never 0 wide
		{1000, 1, 48, 48, 1},
		{20, 10, 48, 20, 10}, // never scaled up
		{48, 30, 48, 48, 30},
	} {
		if tw, th := ThumbSize(tc.w, tc.h, tc.side); tw != tc.tw || th != tc.th {
			t.Errorf("ThumbSize(%d, %d, %d) = %dx%d, want %dx%d", tc.w, tc.h, tc.side, tw, th, tc.tw, tc.th)
		}
	}
}

func TestThumbnail(t *testing.T) {
	// A uniform colour stays that colour; transparency becomes white; the
	// elongated path (Transform instead of Scale) gives the same size.
	red := image.NewYCbCr(image.Rect(0, 0, 300, 200), image.YCbCrSubsampleRatio420)
	y, cb, cr := color.RGBToYCbCr(200, 30, 40)
	for i := range red.Y {
		red.Y[i] = y
	}
	for i := range red.Cb {
		red.Cb[i], red.Cr[i] = cb, cr
	}
	clear := image.NewNRGBA(image.Rect(5, 5, 105, 55))
	for _, tc := range []struct {
		name  string
		img   image.Image
		w, h  int
		want  color.RGBA
		limit int // maxScaleBuffer
	}{
		{"ycbcr", red, 48, 32, color.RGBA{200, 30, 40, 255}, maxScaleBuffer},
		{"ycbcr transform", red, 48, 32, color.RGBA{200, 30, 40, 255}, 1},
		{"transparent", clear, 48, 24, color.RGBA{255, 255, 255, 255}, maxScaleBuffer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func(v int) { maxScaleBuffer = v }(maxScaleBuffer)
			maxScaleBuffer = tc.limit
			th := Thumbnail(tc.img, 48)
			if th.Rect != image.Rect(0, 0, tc.w, tc.h) {
				t.Fatalf("bounds %v, want %dx%d", th.Rect, tc.w, tc.h)
			}
			for i := 0; i < len(th.Pix); i += 4 {
				got := color.RGBA{th.Pix[i], th.Pix[i+1], th.Pix[i+2], th.Pix[i+3]}
				if d := maxDiff(got, tc.want); d > 2 {
					t.Fatalf("pixel %d = %v, want %v", i/4, got, tc.want)
				}
			}
		})
	}
}

func maxDiff(a, b color.RGBA) int {
	return max(absDiff(a.R, b.R), absDiff(a.G, b.G), absDiff(a.B, b.B), absDiff(a.A, b.A))
}
