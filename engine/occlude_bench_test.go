package engine_test

import (
	"testing"

	"github.com/bagnetweb/bagnet/engine"
	"github.com/bagnetweb/bagnet/geom"
)

// BenchmarkOcclude compares an incremental occlusion of a 33x33 square
// (81 of the shipped model's 144 cells see it) with a full pass.
func BenchmarkOcclude(b *testing.B) {
	e := loadShipped(b)
	rgb, tr := randomInput(e)
	a, _ := e.ClassifyRGB(rgb, tr, 5)
	b.Run("full", func(b *testing.B) {
		for b.Loop() {
			e.ClassifyRGB(a.Input, tr, 5)
		}
	})
	b.Run("occlude33", func(b *testing.B) {
		for b.Loop() {
			e.Occlude(a, geom.Rect[int]{X0: 48, Y0: 48, X1: 81, Y1: 81}, engine.Grey(), 5)
		}
	})
}
