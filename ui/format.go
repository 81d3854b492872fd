package ui

import (
	"fmt"
	"math"
	"strings"
)

// Bytes formats a byte count for people ("1.1 MB", "830 kB", "12 B").
func Bytes(n int64) string {
	if s, ok := si(n, [3]string{"%.2f GB", "%.1f MB", "%.0f kB"}); ok {
		return s
	}
	return fmt.Sprintf("%d B", n)
}

// Count formats a large count with a suffix ("23.5 M", "1.20 G", "950").
func Count(n int64) string {
	if s, ok := si(n, [3]string{"%.2f G", "%.1f M", "%.1f k"}); ok {
		return s
	}
	return fmt.Sprint(n)
}

// si formats n of at least a thousand in units of 1e9, 1e6 or 1e3, the
// largest it reaches, with that unit's format; ok is false below 1e3.
func si(n int64, formats [3]string) (s string, ok bool) {
	for i, unit := range [3]int64{1e9, 1e6, 1e3} {
		if n >= unit {
			return fmt.Sprintf(formats[i], float64(n)/float64(unit)), true
		}
	}
	return "", false
}

// Percent formats a probability in [0, 1].
func Percent(p float64) string {
	switch {
	case p >= 0.999 && p < 1:
		return ">99.9%"
	case p > 0 && p < 0.001:
		return "<0.1%"
	}
	return fmt.Sprintf("%.1f%%", 100*p)
}

// Signed formats an evidence value with an explicit sign and a true minus.
func Signed(v float64) string {
	s := fmt.Sprintf("%+.2f", v)
	if s == "-0.00" || s == "+0.00" {
		return "0.00"
	}
	return strings.Replace(s, "-", "\u2212", 1)
}

// Ms formats a duration in milliseconds.
func Ms(ms float64) string {
	switch {
	case ms < 10:
		return fmt.Sprintf("%.1f ms", ms)
	case ms < 10000:
		return fmt.Sprintf("%.0f ms", ms)
	}
	return fmt.Sprintf("%.1f s", ms/1000)
}

// Progress of one download.
type Progress struct {
	Loaded, Total int64
	Done          bool
}

// Fraction in [0, 1]; -1 when the total is unknown and it is not done.
func (p Progress) Fraction() float64 {
	switch {
	case p.Done:
		return 1
	case p.Total <= 0:
		return -1
	}
	return math.Min(1, float64(p.Loaded)/float64(p.Total))
}

// Text is "1.2 MB / 5.0 MB", or the bytes so far when the total is unknown.
func (p Progress) Text() string {
	if p.Total > 0 {
		return Bytes(min(p.Loaded, p.Total)) + " / " + Bytes(p.Total)
	}
	if p.Done && p.Loaded == 0 {
		return "done"
	}
	return Bytes(p.Loaded)
}

// BarStyle is the inline CSS width of a bar showing fraction f of its track.
func BarStyle(f float64) string {
	f = math.Max(0, math.Min(1, f))
	return fmt.Sprintf("width: %.1f%%", 100*f)
}

// BoxStyle positions an outline over a size x size image, in percent.
func BoxStyle(b [4]int, size int) string {
	if size <= 0 {
		return "display: none"
	}
	p := func(v int) float64 { return 100 * float64(v) / float64(size) }
	x0, y0 := math.Max(0, p(b[0])), math.Max(0, p(b[1]))
	x1, y1 := math.Min(100, p(b[2])), math.Min(100, p(b[3]))
	return fmt.Sprintf("left: %.3f%%; top: %.3f%%; width: %.3f%%; height: %.3f%%", x0, y0, x1-x0, y1-y0)
}

// modelFailText is the message for a model file that did not load: the
// loader's own words, then which model the page still uses.
func modelFailText(msg, inUse string) string {
	msg = strings.TrimRight(strings.TrimSpace(msg), ".")
	if msg == "" {
		msg = "The model file could not be loaded"
	}
	return fmt.Sprintf("%s. The previous model (%s) is still in use.", msg, inUse)
}

// CellName names cell (i, j) of the evidence map as the command line does:
// 0-based, row then column, "cell (6,4)".
func CellName(i, j int) string { return fmt.Sprintf("cell (%d,%d)", i, j) }
