package heatmap

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// LegendHeight is the height in pixels of the image Legend draws.
const LegendHeight = legendPad + lineH + legendGap + barH + tickH + lineH + legendPad

const (
	legendPad = 3  // outer margin
	legendGap = 3  // between the title and the bar
	lineH     = 13 // basicfont.Face7x13
	barH      = 12
	tickH     = 4 // length of the min/max ticks under the bar
)

var face = basicfont.Face7x13

// Legend draws a width x LegendHeight key for a map drawn with Color(v,
// absMax): a first line with title followed by "min lo  max hi", the colour
// bar from -absMax (left) through 0 (centre) to +absMax (right), black
// ticks under the bar at lo and hi, and the values -absMax, 0 and +absMax
// under its ends and centre. Text that does not fit is cut short; non-ASCII
// characters are drawn as '?'. The background is white.
func Legend(width int, absMax, lo, hi float32, title string) *image.RGBA {
	width = max(width, 1)
	img := image.NewRGBA(image.Rect(0, 0, width, LegendHeight))
	draw.Draw(img, img.Rect, image.White, image.Point{}, draw.Src)

	x0, x1 := legendPad, max(width-legendPad, legendPad+1)
	maxChars := (x1 - x0) / face.Advance

	// First line: the title, shortened first, then the range.
	rng := fmt.Sprintf("min %s  max %s", format(lo), format(hi))
	line := rng
	if title != "" {
		room := maxChars - len(rng) - 2
		if t := ascii(title); room >= 4 {
			line = shorten(t, room) + ": " + rng
		}
	}
	text(img, x0, legendPad, shorten(line, maxChars))

	// The bar and the ticks at lo and hi.
	top := legendPad + lineH + legendGap
	n := x1 - x0
	for x := x0; x < x1; x++ {
		v := (float32(x-x0)+0.5)/float32(n)*2*absMax - absMax
		c := Color(v, absMax)
		for y := top; y < top+barH; y++ {
			img.SetRGBA(x, y, c)
		}
	}
	if absMax > 0 {
		for _, v := range []float32{lo, hi} {
			x := x0 + int((v+absMax)/(2*absMax)*float32(n))
			x = max(x0, min(x1-1, x))
			for y := top + barH; y < top+barH+tickH; y++ {
				img.SetRGBA(x, y, color.RGBA{0, 0, 0, 0xff})
			}
		}
	}

	// Scale labels under the bar's ends and centre.
	y := top + barH + tickH
	left, right, mid := format(-absMax), "+"+format(absMax), "0"
	if absMax <= 0 {
		left, right = format(0), format(0)
	}
	lw, rw := len(left)*face.Advance, len(right)*face.Advance
	if lw+rw+face.Advance <= n {
		text(img, x0, y, left)
		text(img, x1-rw, y, right)
		if cx := x0 + n/2 - face.Advance/2; cx >= x0+lw+face.Advance && cx+face.Advance <= x1-rw-face.Advance {
			text(img, cx, y, mid)
		}
	} else {
		text(img, x0, y, shorten(left+" .. "+right, maxChars))
	}
	return img
}

// format writes v with three significant digits.
func format(v float32) string {
	s := fmt.Sprintf("%.3g", v)
	if s == "-0" {
		s = "0"
	}
	return s
}

// ascii replaces characters the font lacks.
func ascii(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 32 || r > 126 {
			return '?'
		}
		return r
	}, s)
}

// shorten cuts s to at most n characters, marking the cut with "..".
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n <= 2 {
		return s[:max(n, 0)]
	}
	return s[:n-2] + ".."
}

// text draws s with its top-left corner at (x, y).
func text(dst draw.Image, x, y int, s string) {
	d := font.Drawer{
		Dst:  dst,
		Src:  image.NewUniform(color.RGBA{0x20, 0x20, 0x20, 0xff}),
		Face: face,
		Dot:  fixed.P(x, y+face.Ascent),
	}
	d.DrawString(ascii(s))
}
