package viz

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/bagnetweb/bagnet/geom"
	"github.com/bagnetweb/bagnet/internal/testimage"
)

func luminance(c RGB) float64 { return 0.2126*float64(c.R) + 0.7152*float64(c.G) + 0.0722*float64(c.B) }

func TestDivergingStops(t *testing.T) {
	tests := []struct {
		v, lim float32
		want   string
	}{
		{-1, 1, "#053061"}, // most negative: dark blue
		{-0.2, 1, "#d1e5f0"},
		{0, 1, "#f7f7f7"}, // zero: near white
		{0.2, 1, "#fddbc7"},
		{1, 1, "#67001f"}, // most positive: dark red
		{5, 2.5, "#67001f"},
		{-7, 2, "#053061"}, // beyond the range saturates
		{3, 0, "#f7f7f7"},  // no range: neutral
		{3, -1, "#f7f7f7"}, // negative range: neutral
		{float32(math.NaN()), 1, "#f7f7f7"},
		{1, float32(math.Inf(1)), "#f7f7f7"},
	}
	for _, tt := range tests {
		if got := Diverging(tt.v, tt.lim).Hex(); got != tt.want {
			t.Errorf("Diverging(%v, %v) = %s, want %s", tt.v, tt.lim, got, tt.want)
		}
	}
}

// Readability without hue: brightness must fall monotonically as |v| grows
// on both sides, and the two sides must be told apart by hue (blue vs red).
func TestDivergingMonotoneLightness(t *testing.T) {
	prevNeg, prevPos := math.Inf(1), math.Inf(1)
	for k := 0; k <= 100; k++ {
		v := float32(k) / 100
		ln, lp := luminance(Diverging(-v, 1)), luminance(Diverging(v, 1))
		if ln > prevNeg+0.5 || lp > prevPos+0.5 {
			t.Fatalf("lightness rises at |v|=%v: neg %v (was %v), pos %v (was %v)", v, ln, prevNeg, lp, prevPos)
		}
		prevNeg, prevPos = ln, lp
		if k > 5 {
			n, p := Diverging(-v, 1), Diverging(v, 1)
			if n.B <= n.R || p.R <= p.B {
				t.Fatalf("at |v|=%v negative %v is not bluish or positive %v not reddish", v, n, p)
			}
		}
	}
}

func TestGradient(t *testing.T) {
	g := Gradient()
	if !strings.HasPrefix(g, "linear-gradient(to right, #053061") || !strings.HasSuffix(g, "#67001f)") {
		t.Errorf("Gradient() = %q", g)
	}
}

func TestLimitAndMean(t *testing.T) {
	inf := float32(math.Inf(-1))
	tests := []struct {
		maps [][]float32
		want float32
	}{
		{nil, 1},
		{[][]float32{{0, 0}}, 1},
		{[][]float32{{1, -3, 2}}, 3},
		{[][]float32{{1}, {-0.5, 2.5}}, 2.5},
		{[][]float32{{inf, 2}}, 2},
	}
	for _, tt := range tests {
		if got := Limit(tt.maps...); got != tt.want {
			t.Errorf("Limit(%v) = %v, want %v", tt.maps, got, tt.want)
		}
	}
	if m := Mean([]float32{1, 2, 6}); m != 3 {
		t.Errorf("Mean = %v, want 3", m)
	}
	if m := Mean(nil); m != 0 {
		t.Errorf("Mean(nil) = %v, want 0", m)
	}
}

// bagnet33 at 128 pixels: a 12x12 map of 33-pixel patches at stride 8.
var g128 = Geometry{Size: 128, Patch: 33, Stride: 8, H: 12, W: 12}

func TestGeometryValidate(t *testing.T) {
	tests := []struct {
		g  Geometry
		ok bool
	}{
		{g128, true},
		{Geometry{Size: 224, Patch: 33, Stride: 8, H: 24, W: 24}, true},
		{Geometry{Size: 128, Patch: 33, Stride: 8, H: 13, W: 12}, false}, // last patch would end at 129
		{Geometry{Size: 128, Patch: 33, Stride: 8, H: 0, W: 0}, true},
		{Geometry{Size: 0, Patch: 33, Stride: 8}, false},
		{Geometry{Size: 128, Patch: 33, Stride: 8, H: -1, W: 2}, false},
	}
	for _, tt := range tests {
		if err := tt.g.Validate(); (err == nil) != tt.ok {
			t.Errorf("%+v.Validate() = %v, want ok=%v", tt.g, err, tt.ok)
		}
	}
}

func TestCellAtTilesCentres(t *testing.T) {
	for _, g := range []Geometry{g128, {Size: 64, Patch: 9, Stride: 8, H: 7, W: 7}, {Size: 96, Patch: 17, Stride: 8, H: 10, W: 10}} {
		// Sample the input at quarter pixels: every cell must own exactly a
		// Stride x Stride square centred on its patch.
		count := make([]int, g.H*g.W)
		for y := 0.125; y < float64(g.Size); y += 0.25 {
			for x := 0.125; x < float64(g.Size); x += 0.25 {
				i, j, ok := g.CellAt(x, y)
				if !ok {
					continue
				}
				b := g.CellBox(i, j)
				cx, cy := float64(b.X0+b.X1)/2, float64(b.Y0+b.Y1)/2
				h := float64(g.Stride) / 2
				if math.Abs(x-cx) > h || math.Abs(y-cy) > h {
					t.Fatalf("%+v: point (%v,%v) -> cell (%d,%d) centred at (%v,%v)", g, x, y, i, j, cx, cy)
				}
				count[i*g.W+j]++
			}
		}
		want := 16 * g.Stride * g.Stride
		for k, c := range count {
			if c != want {
				t.Fatalf("%+v: cell %d owns %d samples, want %d", g, k, c, want)
			}
		}
	}
	if _, _, ok := g128.CellAt(-1, 50); ok {
		t.Error("CellAt outside the image reported a cell")
	}
}

func TestOverlay(t *testing.T) {
	g := g128
	rgb := testimage.RGB(g.Size)
	ev := make([]float32, g.H*g.W)
	for k := range ev {
		ev[k] = float32(k%7) - 3
	}
	scale := OverlayScale(g.Size, 500)
	if scale != 4 {
		t.Fatalf("OverlayScale(128, 500) = %d, want 4", scale)
	}
	side := g.Size * scale
	plain, err := Overlay(rgb, g, ev, 3, 0, scale)
	if err != nil {
		t.Fatal(err)
	}
	full, err := Overlay(rgb, g, ev, 3, 1, scale)
	if err != nil {
		t.Fatal(err)
	}
	for y := 0; y < side; y++ {
		for x := 0; x < side; x++ {
			d := (y*side + x) * 4
			s := ((y/scale)*g.Size + x/scale) * 3
			want := [4]uint8{rgb[s], rgb[s+1], rgb[s+2], 255}
			if got := [4]uint8(plain[d : d+4]); got != want {
				t.Fatalf("opacity 0: pixel (%d,%d) = %v, want image %v", x, y, got, want)
			}
			// Pixel centre in input coordinates decides which cell covers it.
			px, py := (float64(x)+0.5)/float64(scale), (float64(y)+0.5)/float64(scale)
			if i, j, ok := g.CellAt(px, py); ok {
				// Full opacity paints |v| = lim solid and fades with
				// sqrt(|v|/lim) towards the image.
				v := ev[i*g.W+j]
				c := Diverging(v, 3)
				f := math.Sqrt(math.Min(1, math.Abs(float64(v))/3))
				mix := func(p, q uint8) uint8 { return uint8(math.Round(float64(p)*(1-f) + float64(q)*f)) }
				want = [4]uint8{mix(want[0], c.R), mix(want[1], c.G), mix(want[2], c.B), 255}
			}
			got := [4]uint8(full[d : d+4])
			for k := range 3 {
				if math.Abs(float64(got[k])-float64(want[k])) > 1 {
					t.Fatalf("opacity 1: pixel (%d,%d) = %v, want %v", x, y, got, want)
				}
			}
		}
	}
	// Half opacity on a saturated cell mixes image and colour equally.
	ev[5*g.W+7] = -3
	half, _ := Overlay(rgb, g, ev, 3, 0.5, scale)
	b := g.CellBox(5, 7)
	x, y := (b.X0+b.X1)/2*scale, (b.Y0+b.Y1)/2*scale
	c := Diverging(-3, 3)
	s := ((y/scale)*g.Size + x/scale) * 3
	d := (y*side + x) * 4
	if want := (int(rgb[s]) + int(c.R) + 1) / 2; math.Abs(float64(int(half[d])-want)) > 1 {
		t.Errorf("opacity 0.5: red %d, want ~%d", half[d], want)
	}
}

func TestOverlayErrors(t *testing.T) {
	rgb := testimage.RGB(128)
	ev := make([]float32, 144)
	tests := []struct {
		name  string
		rgb   []uint8
		g     Geometry
		ev    []float32
		scale int
	}{
		{"short image", rgb[:10], g128, ev, 4},
		{"short map", rgb, g128, ev[:10], 4},
		{"odd scale", rgb, g128, ev, 3},
		{"bad geometry", rgb, Geometry{Size: 128, Patch: 33, Stride: 8, H: 20, W: 20}, make([]float32, 400), 4},
	}
	for _, tt := range tests {
		if _, err := Overlay(tt.rgb, tt.g, tt.ev, 1, 0.5, tt.scale); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

func TestAlpha(t *testing.T) {
	tests := []struct {
		v, lim  float32
		opacity float64
		want    float64
	}{
		{0, 2, 1, 0},
		{2, 2, 1, 1},
		{-2, 2, 0.5, 0.5},
		{0.5, 2, 1, 0.5}, // sqrt(1/4)
		{-8, 2, 0.8, 0.8},
		{1, 0, 1, 0},
		{float32(math.NaN()), 1, 1, 0},
		{1, 1, 3, 1}, // opacity clamped
	}
	for _, tt := range tests {
		if got := Alpha(tt.v, tt.lim, tt.opacity); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("Alpha(%v, %v, %v) = %v, want %v", tt.v, tt.lim, tt.opacity, got, tt.want)
		}
	}
}

func TestMapImage(t *testing.T) {
	ev := []float32{-2, 0, 2}
	m := MapImage(ev, 2)
	for k, v := range ev {
		c := Diverging(v, 2)
		if got := [4]uint8(m[4*k : 4*k+4]); got != [4]uint8{c.R, c.G, c.B, 255} {
			t.Errorf("MapImage pixel %d = %v, want %v", k, got, c)
		}
	}
}

func TestCrop(t *testing.T) {
	n := 40
	rgb := testimage.RGB(n)
	tests := []struct {
		b            geom.Rect[int]
		x0, y0, w, h int
	}{
		{geom.Rect[int]{X0: 8, Y0: 16, X1: 41, Y1: 49}, 8, 16, 32, 24}, // clipped at the right and bottom
		{geom.Rect[int]{X0: 0, Y0: 0, X1: 9, Y1: 9}, 0, 0, 9, 9},
		{geom.Rect[int]{X0: -3, Y0: 2, X1: 5, Y1: 4}, 0, 2, 5, 2},
		{geom.Rect[int]{X0: 50, Y0: 50, X1: 60, Y1: 60}, 0, 0, 0, 0}, // outside
	}
	for _, tt := range tests {
		got, w, h := Crop(rgb, n, tt.b)
		if w != tt.w || h != tt.h {
			t.Errorf("Crop(%v) size %dx%d, want %dx%d", tt.b, w, h, tt.w, tt.h)
			continue
		}
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				s := ((tt.y0+y)*n + tt.x0 + x) * 3
				d := (y*w + x) * 4
				if [4]uint8(got[d:d+4]) != [4]uint8{rgb[s], rgb[s+1], rgb[s+2], 255} {
					t.Fatalf("Crop(%v) pixel (%d,%d) wrong", tt.b, x, y)
				}
			}
		}
	}
}

func TestRankedAndExtremes(t *testing.T) {
	nan := float32(math.NaN())
	ev := []float32{0.5, -2, 3, nan, -0.1, 3, 1}
	if got, want := Ranked(ev), []int{2, 5, 6, 0, 4, 1, 3}; !slices.Equal(got, want) {
		t.Errorf("Ranked = %v, want %v", got, want)
	}
	tests := []struct {
		k           int
		top, bottom []int
	}{
		{2, []int{2, 5}, []int{1, 4}},
		{3, []int{2, 5, 6}, []int{1, 4}}, // only two negatives
		{0, []int{}, nil},
		{5, []int{2, 5, 6, 0, 4}, []int{1}}, // no index in both lists
	}
	for _, tt := range tests {
		top, bottom := Extremes(ev, tt.k)
		if !slices.Equal(top, tt.top) || !slices.Equal(bottom, tt.bottom) {
			t.Errorf("Extremes(k=%d) = %v, %v; want %v, %v", tt.k, top, bottom, tt.top, tt.bottom)
		}
	}
}
