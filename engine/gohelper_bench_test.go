package engine_test

import (
	"fmt"
	"testing"

	"github.com/bagnetweb/bagnet/engine"
	"github.com/bagnetweb/bagnet/internal/testmodel"
	"github.com/bagnetweb/bagnet/model"
	"github.com/bagnetweb/bagnet/preprocess"
)

// BenchmarkGoroutines classifies one model input alone and in bands on
// goroutines (UseGoroutines): the shipped model (128 px, 2 bands at most)
// and a BagNet-33 of width 1/4 at 224 px (26 map rows). The ratio of
// workers=1 to workers=N is the speed-up of one image on N cores.
func BenchmarkGoroutines(b *testing.B) {
	shipped := loadShipped(b)
	wide, err := testmodel.Int8(testmodel.Options{Arch: "bagnet33", Width: 0.25, InputSize: 224})
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range []struct {
		name string
		load func() (*engine.Engine, error)
	}{
		{"shipped128", func() (*engine.Engine, error) { return shipped, nil }},
		{"bagnet33w4_224", func() (*engine.Engine, error) { return engine.Load(wide) }},
	} {
		e, err := m.load()
		if err != nil {
			b.Fatal(err)
		}
		rgb, tr := randomInput(e)
		for _, w := range []int{1, 2, 4} {
			b.Run(fmt.Sprintf("%s/workers=%d", m.name, w), func(b *testing.B) {
				e.UseGoroutines(w)
				for b.Loop() {
					if _, err := e.ClassifyRGB(rgb, tr, 5); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// loadShipped loads the shipped model, failing the benchmark if it cannot.
func loadShipped(b *testing.B) *engine.Engine {
	b.Helper()
	e, err := engine.LoadFile(shippedInt8)
	if err != nil {
		b.Fatal(err)
	}
	return e
}

// randomInput is a random model input for e and the transform of a square
// image of that size onto it.
func randomInput(e *engine.Engine) ([]uint8, preprocess.Transform) {
	n := e.InputSize
	return model.RandomRGB(n, n, 1), preprocess.NewTransform(preprocess.Squash, n, n, n)
}
