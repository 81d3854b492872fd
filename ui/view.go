package ui

import (
	"math"
	"strconv"
	"strings"
)

// Text and small computations for the template. None of it touches
// JavaScript.

// ProgressNow is a bar's aria-valuenow (percent), omitted when unknown.
func ProgressNow(p Progress) any {
	if f := p.Fraction(); f >= 0 {
		return strconv.Itoa(int(math.Round(100 * f)))
	}
	return nil
}

// MeterClass styles a bar whose total is unknown as indeterminate.
func MeterClass(p Progress) string {
	if p.Fraction() < 0 {
		return "meter-fill indeterminate"
	}
	return "meter-fill"
}

// ScrambleDisabled is true while the experiment cannot run.
func (c *Root) ScrambleDisabled() bool { return c.Cur == nil || c.Busy() }

// StatusText is the status line: hidden behind the error message when
// there is one.
func (c *Root) StatusText() string {
	if c.Err != "" {
		return ""
	}
	return c.Status
}

// EngineText says where and how the network runs.
func (c *Root) EngineText() string {
	w, k := "", ""
	if c.Info != nil {
		switch strings.ToLower(c.Info.DType) {
		case "int8":
			w = ", with 8-bit integer weights"
		case "float32":
			w = ", with 32-bit floating-point weights"
		}
		if c.Info.Kernel != "" {
			k = " Engine: " + c.Info.Kernel + "."
		}
	}
	return "The network runs in WebAssembly (Go) in a background worker of this page" + w +
		"." + k + " The page loads nothing from any other site, and after the first visit it works offline."
}
