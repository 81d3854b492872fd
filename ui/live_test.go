package ui

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bagnetweb/bagnet/preprocess"
	"github.com/bagnetweb/bagnet/protocol"
	"github.com/bagnetweb/bagnet/ui/viz"
)

// The live overlay, laid over a black frame, is the full analysis's
// overlay (viz.Overlay) of a black image, sampled at the input's pixels;
// pixels that are no cell's centre stay transparent.
func TestLiveOverlayMatchesOverlay(t *testing.T) {
	g := viz.Geometry{Size: 64, Patch: 32, Stride: 8, H: 5, W: 5}
	r := rand.New(rand.NewPCG(1, 2))
	ev := make([]float32, g.H*g.W)
	for k := range ev {
		ev[k] = float32(r.NormFloat64())
	}
	lim := viz.Limit(ev)
	got, err := LiveOverlay(g, ev, lim, 0.75)
	if err != nil {
		t.Fatal(err)
	}
	want, err := viz.Overlay(make([]uint8, 64*64*3), g, ev, lim, 0.75, 2)
	if err != nil {
		t.Fatal(err)
	}
	painted := 0
	for y := 0; y < 64; y++ {
		for x := 0; x < 64; x++ {
			p := got[(y*64+x)*4:]
			q := want[(2*y*128+2*x)*4:]
			inside := y >= 12 && y < 12+5*8 && x >= 12 && x < 12+5*8
			if !inside {
				if p[3] != 0 {
					t.Fatalf("(%d,%d) is no cell's centre but alpha is %d", x, y, p[3])
				}
				continue
			}
			painted++
			for ch := range 3 {
				over := int(p[ch]) * int(p[3]) / 255 // over black
				if d := over - int(q[ch]); d < -2 || d > 2 {
					t.Fatalf("(%d,%d) channel %d: live overlay gives %d over black, viz.Overlay %d", x, y, ch, over, q[ch])
				}
			}
		}
	}
	if painted != 40*40 {
		t.Errorf("painted %d pixels, want %d", painted, 40*40)
	}
	if _, err := LiveOverlay(g, ev[:3], lim, 0.75); err == nil {
		t.Error("a map of the wrong size was drawn")
	}
}

// Live mode resizes the part of a video frame that Freeze's exact analysis
// of the frame's centre square sees: all of it in squash mode, the centre
// crop in crop mode (preprocess.NewTransform is the reference).
func TestLiveSource(t *testing.T) {
	for _, tc := range []struct {
		mode   preprocess.Mode
		n      int
		vw, vh int
	}{
		{preprocess.Squash, 128, 320, 240}, {preprocess.Squash, 96, 480, 640},
		{preprocess.Crop, 224, 1280, 720}, {preprocess.Crop, 128, 320, 240}, {preprocess.Crop, 96, 480, 640}, {preprocess.Crop, 100, 101, 101},
	} {
		s := min(tc.vw, tc.vh)
		ref := preprocess.NewTransform(tc.mode, tc.n, s, s)
		rx0, ry0, rx1, ry1 := ref.ToSource(0, 0, float64(tc.n), float64(tc.n))
		x, y, side := liveSource(string(tc.mode), tc.n, tc.vw, tc.vh)
		ox, oy := float64((tc.vw-s)/2), float64((tc.vh-s)/2)
		if math.Abs(x-(ox+rx0)) > 1e-9 || math.Abs(y-(oy+ry0)) > 1e-9 || math.Abs(side-(rx1-rx0)) > 1e-9 || math.Abs(side-(ry1-ry0)) > 1e-9 {
			t.Errorf("%s %d from %dx%d: live reads (%g, %g) side %g; the exact path sees [%g, %g) x [%g, %g) of the square at (%g, %g)",
				tc.mode, tc.n, tc.vw, tc.vh, x, y, side, rx0, rx1, ry0, ry1, ox, oy)
		}
		c := &ImageInput{Model: &protocol.Info{InputSize: tc.n, Resize: string(tc.mode)}}
		if css := c.LiveOverlayCSS(); (css != "") != (tc.mode == preprocess.Crop) {
			t.Errorf("%s: overlay CSS %q", tc.mode, css)
		}
	}
}
