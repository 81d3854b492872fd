package heatmap

import (
	"fmt"
	"github.com/bagnetweb/bagnet/geom"
	"image"
	"image/color"
	"math"
	"testing"
)

// The ColorBrewer RdBu-11 colours as published (colorbrewer2.org), listed
// from the positive (red) end, as ColorBrewer lists them.
var brewer = []string{
	"#67001f", "#b2182b", "#d6604d", "#f4a582", "#fddbc7", "#f7f7f7",
	"#d1e5f0", "#92c5de", "#4393c3", "#2166ac", "#053061",
}

func hex(t *testing.T, s string) color.RGBA {
	t.Helper()
	var r, g, b uint8
	if _, err := fmt.Sscanf(s, "#%02x%02x%02x", &r, &g, &b); err != nil {
		t.Fatalf("bad colour %q: %v", s, err)
	}
	return color.RGBA{r, g, b, 0xff}
}

func TestColorStops(t *testing.T) {
	const absMax = 2.5
	for k, h := range brewer {
		v := float32(1-0.2*float64(k)) * absMax // +absMax ... -absMax
		if got, want := Color(v, absMax), hex(t, h); got != want {
			t.Errorf("Color(%v, %v) = %v, want %v (%s)", v, absMax, got, want, h)
		}
	}
}

func TestColorSpecialValues(t *testing.T) {
	neutral := hex(t, "#f7f7f7")
	tests := []struct {
		name      string
		v, absMax float32
		want      color.RGBA
	}{
		{"zero", 0, 1, neutral},
		{"nan value", float32(math.NaN()), 1, neutral},
		{"zero range", 3, 0, neutral},
		{"negative range", 3, -1, neutral},
		{"infinite range", 3, float32(math.Inf(1)), neutral},
		{"above range", 10, 1, hex(t, "#67001f")},
		{"below range", -10, 1, hex(t, "#053061")},
		{"+inf", float32(math.Inf(1)), 1, hex(t, "#67001f")},
		{"halfway between stops", 0.1, 1, color.RGBA{0xfa, 0xe9, 0xdf, 0xff}}, // mean of f7f7f7 and fddbc7, rounded
	}
	for _, tt := range tests {
		if got := Color(tt.v, tt.absMax); got != tt.want {
			t.Errorf("%s: Color(%v, %v) = %v, want %v", tt.name, tt.v, tt.absMax, got, tt.want)
		}
	}
}

// luminance is the WCAG relative luminance of an sRGB colour.
func luminance(c color.RGBA) float64 {
	lin := func(u uint8) float64 {
		x := float64(u) / 255
		if x <= 0.04045 {
			return x / 12.92
		}
		return math.Pow((x+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c.R) + 0.7152*lin(c.G) + 0.0722*lin(c.B)
}

// A diverging map stays readable without hue when lightness falls steadily
// from the centre towards both ends.
func TestColorLightnessDiverges(t *testing.T) {
	const n = 200
	for _, sign := range []float32{1, -1} {
		prev := luminance(Color(0, 1))
		for k := 1; k <= n; k++ {
			l := luminance(Color(sign*float32(k)/n, 1))
			if l > prev+1e-9 {
				t.Fatalf("sign %v: luminance rises from %.4f to %.4f at |v| = %v", sign, prev, l, float32(k)/n)
			}
			prev = l
		}
		if prev > 0.1 {
			t.Errorf("sign %v: end luminance %.3f, want a dark end", sign, prev)
		}
	}
	// Both halves differ in hue: red dominates on the positive side.
	if c := Color(0.7, 1); c.R <= c.B {
		t.Errorf("positive colour %v is not reddish", c)
	}
	if c := Color(-0.7, 1); c.B <= c.R {
		t.Errorf("negative colour %v is not bluish", c)
	}
}

func grid2x3() Grid {
	return Grid{
		Rows: 2, Cols: 3, Values: []float32{1, 2, 3, -4, -5, -6},
		X0: 10, Y0: 20, DX: 8, DY: 4,
		Area: geom.Rect[float64]{X0: 0, Y0: 0, X1: 40, Y1: 30},
	}
}

func TestGridAt(t *testing.T) {
	g := grid2x3()
	tests := []struct {
		x, y   float64
		want   float32
		inside bool
	}{
		{10, 20, 1, true},    // centre of cell (0,0)
		{26, 24, -6, true},   // centre of cell (1,2)
		{14, 20, 1.5, true},  // halfway between (0,0) and (0,1)
		{10, 22, -1.5, true}, // halfway between (0,0) and (1,0)
		{14, 22, (1 + 2 - 4 - 5) / 4.0, true},
		{0, 0, 1, true},        // held constant beyond the first centre
		{39.9, 29.9, -6, true}, // and beyond the last
		{40, 10, 3, false},     // outside the area (right edge is open)
		{-1, 10, 1, false},     // outside, left
		{18, 35, -5, false},    // outside, below
	}
	for _, tt := range tests {
		v, in := g.At(tt.x, tt.y)
		if math.Abs(float64(v-tt.want)) > 1e-6 || in != tt.inside {
			t.Errorf("At(%v, %v) = %v, %v; want %v, %v", tt.x, tt.y, v, in, tt.want, tt.inside)
		}
	}
	lo, hi, m := g.Range()
	if lo != -6 || hi != 3 || m != 6 {
		t.Errorf("Range() = %v, %v, %v; want -6, 3, 6", lo, hi, m)
	}
}

func TestGridCheck(t *testing.T) {
	bad := []func(*Grid){
		func(g *Grid) { g.Rows = 0 },
		func(g *Grid) { g.Values = g.Values[:5] },
		func(g *Grid) { g.DX = 0 },
		func(g *Grid) { g.DY = -1 },
		func(g *Grid) { g.X0 = math.NaN() },
		func(g *Grid) { g.Area.X1 = math.Inf(1) },
	}
	for i, f := range bad {
		g := grid2x3()
		f(&g)
		if err := g.Check(); err == nil {
			t.Errorf("case %d: Check accepted %+v", i, g)
		}
		if _, err := Overlay(image.NewRGBA(image.Rect(0, 0, 4, 4)), g, 1, 0.5); err == nil {
			t.Errorf("case %d: Overlay accepted a bad grid", i)
		}
	}
	g := grid2x3()
	if err := g.Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
	for _, a := range []float64{-0.1, 1.1, math.NaN()} {
		if _, err := Overlay(image.NewRGBA(image.Rect(0, 0, 4, 4)), g, 1, a); err == nil {
			t.Errorf("Overlay accepted alpha %v", a)
		}
	}
}

// overlay is Overlay, failing the test on an error.
func overlay(t *testing.T, src image.Image, g Grid, absMax float32, alpha float64) *image.RGBA {
	t.Helper()
	out, err := Overlay(src, g, absMax, alpha)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestOverlay(t *testing.T) {
	// A grey image whose bounds do not start at the origin.
	src := image.NewRGBA(image.Rect(5, 7, 5+50, 7+40))
	for i := range src.Pix {
		src.Pix[i] = 100
		if i%4 == 3 {
			src.Pix[i] = 0xff
		}
	}
	g := grid2x3()
	const alpha = 0.6
	out := overlay(t, src, g, 6, alpha)
	if out.Rect != image.Rect(0, 0, 50, 40) {
		t.Fatalf("bounds %v, want (0,0)-(50,40)", out.Rect)
	}
	blend := func(img, c uint8, a float64) uint8 {
		return uint8(math.Round(float64(img)*(1-a) + float64(c)*a))
	}
	for _, p := range []struct{ x, y int }{{9, 19}, {25, 23}, {13, 21}, {0, 0}, {39, 29}, {45, 10}, {10, 35}} {
		v, in := g.At(float64(p.x)+0.5, float64(p.y)+0.5)
		var want color.RGBA
		if in {
			c := Color(v, 6)
			want = color.RGBA{blend(100, c.R, alpha), blend(100, c.G, alpha), blend(100, c.B, alpha), 0xff}
		} else {
			want = color.RGBA{blend(100, 128, 0.5), blend(100, 128, 0.5), blend(100, 128, 0.5), 0xff}
		}
		if got := out.RGBAAt(p.x, p.y); got != want {
			t.Errorf("pixel (%d,%d) = %v, want %v (value %v, inside %v)", p.x, p.y, got, want, v, in)
		}
	}
	// alpha 0 leaves the covered area untouched.
	out0 := overlay(t, src, g, 6, 0)
	if got := out0.RGBAAt(20, 20); got != (color.RGBA{100, 100, 100, 0xff}) {
		t.Errorf("alpha 0: pixel %v, want the image's grey", got)
	}
}

func TestOverlayTransparentOverWhite(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 4, 4)) // fully transparent
	g := Grid{Rows: 1, Cols: 1, Values: []float32{0}, DX: 1, DY: 1, Area: geom.Rect[float64]{X0: 0, Y0: 0, X1: 4, Y1: 4}}
	out := overlay(t, src, g, 1, 0)
	if got := out.RGBAAt(1, 1); got != (color.RGBA{255, 255, 255, 255}) {
		t.Errorf("transparent pixel became %v, want white", got)
	}
}

func TestLegend(t *testing.T) {
	const w = 300
	lo, hi, absMax := float32(-1), float32(2), float32(2)
	img := Legend(w, absMax, lo, hi, "tench")
	if img.Rect != image.Rect(0, 0, w, LegendHeight) {
		t.Fatalf("legend bounds %v, want 0,0-%d,%d", img.Rect, w, LegendHeight)
	}
	top := legendPad + lineH + legendGap
	y := top + barH/2
	n := w - 2*legendPad
	for _, x := range []int{legendPad, legendPad + n/4, w - legendPad - 1} {
		v := (float32(x-legendPad)+0.5)/float32(n)*2*absMax - absMax
		if got, want := img.RGBAAt(x, y), Color(v, absMax); got != want {
			t.Errorf("bar at x=%d: %v, want Color(%v) = %v", x, got, v, want)
		}
	}
	black := color.RGBA{0, 0, 0, 0xff}
	for _, v := range []float32{lo, hi} {
		x := min(legendPad+int((v+absMax)/(2*absMax)*float32(n)), w-legendPad-1)
		if got := img.RGBAAt(x, top+barH+1); got != black {
			t.Errorf("no tick for %v at x=%d below the bar: %v", v, x, got)
		}
	}
	if got := img.RGBAAt(legendPad+n/2, top+barH+1); got == black {
		t.Errorf("tick at 0, where there is no min or max")
	}
	// The text lines hold dark pixels.
	for _, band := range [][2]int{{legendPad, legendPad + lineH}, {top + barH + tickH, LegendHeight}} {
		if dark(img, band[0], band[1]) == 0 {
			t.Errorf("no text in rows %d-%d", band[0], band[1])
		}
	}
}

func dark(img *image.RGBA, y0, y1 int) int {
	n := 0
	for y := y0; y < y1; y++ {
		for x := 0; x < img.Rect.Dx(); x++ {
			if c := img.RGBAAt(x, y); c.R < 80 && c.G < 80 && c.B < 80 {
				n++
			}
		}
	}
	return n
}

func TestLegendAnyWidth(t *testing.T) {
	for w := -1; w <= 80; w++ {
		for _, m := range []float32{0, 1e-7, 3, 12345} {
			img := Legend(w, m, -m/2, m, "a very long class name with ünïcode")
			if img.Rect.Dy() != LegendHeight || img.Rect.Dx() != max(w, 1) {
				t.Fatalf("width %d: legend %v", w, img.Rect)
			}
		}
	}
}
