package engine_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/bagnetweb/bagnet/engine"
	"github.com/bagnetweb/bagnet/internal/testmodel"
)

// localHelper computes blocks with its own copy of the model, as a Web
// Worker does; fail makes it answer with an error instead.
type localHelper struct {
	e     *engine.Engine
	fail  error
	calls int
}

func (h *localHelper) Start(rgb []uint8, rows, cols [2]int) func() ([]uint8, error) {
	h.calls++
	rgb = slices.Clone(rgb) // as postMessage copies it
	return func() ([]uint8, error) {
		if h.fail != nil {
			return nil, h.fail
		}
		n := h.e.InputSize
		f, err := h.e.Int8.FeatureRect(rgb, n, n, rows[0], rows[1], cols[0], cols[1])
		if err != nil {
			return nil, err
		}
		return f.Data, nil
	}
}

// loadWithHelpers loads the model of opt with n local helpers, each with
// its own copy.
func loadWithHelpers(t *testing.T, opt testmodel.Options, n int) (*engine.Engine, []*localHelper) {
	t.Helper()
	e := load(t, opt)
	var hs []*localHelper
	for range n {
		h := &localHelper{e: load(t, opt)}
		hs = append(hs, h)
		e.Helpers = append(e.Helpers, h)
	}
	return e, hs
}

// Classifying in bands on helpers gives the same logits and evidence, bit
// for bit, as one engine alone; a failing helper is dropped and its band
// recomputed, with the same result.
func TestHelpersGiveIdenticalResults(t *testing.T) {
	eachArch(t, func(arch string, opt testmodel.Options, img []byte, want *engine.Analysis) {
		for _, n := range []int{1, 2, 3} {
			t.Run(fmt.Sprintf("%s/%d helpers", arch, n), func(t *testing.T) {
				e, hs := loadWithHelpers(t, opt, n)
				bands := e.Bands(len(e.Helpers) + 1)
				if len(bands) < 2 {
					t.Fatalf("bands %v: the test needs a map that splits", bands)
				}
				var dropped []error
				e.OnHelperError = func(_ engine.Helper, err error) { dropped = append(dropped, err) }
				check := func(what string) { sameAnalysis(t, what, classify(t, e, img, 3), want) }
				check(fmt.Sprintf("%d bands", len(bands)))
				if used := hs[0].calls; used != 1 {
					t.Fatalf("helper 0 ran %d bands, want 1", used)
				}
				hs[0].fail = errors.New("worker died")
				check("with a failing helper")
				if len(dropped) != 1 || len(e.Helpers) != n-1 {
					t.Fatalf("after a failure: %d errors reported, %d helpers left (want 1, %d)", len(dropped), len(e.Helpers), n-1)
				}
				check("after dropping it")
			})
		}
	})
}

func TestBandsRespectMinRows(t *testing.T) {
	e := load(t, testmodel.Options{Arch: "bagnet33", InputSize: 128})
	for range 7 {
		e.Helpers = append(e.Helpers, &localHelper{e: e})
	}
	// 12 map rows, at least 5 rows (33/8 rounded up) a band: 2 bands.
	if got, want := fmt.Sprint(e.Bands(len(e.Helpers)+1)), "[[0 6] [6 12]]"; got != want {
		t.Errorf("bands %s, want %s", got, want)
	}
	if h, _ := e.Config.MapSize(128, 128); h != 12 || e.MinBandRows() != 5 {
		t.Errorf("map %d rows, min band rows %d", h, e.MinBandRows())
	}
}

// Features on helpers is the int8 network's map byte for byte; bad input
// is an error.
func TestFeaturesOnHelpers(t *testing.T) {
	opt := testmodel.Options{Arch: "bagnet33", InputSize: 128}
	e, hs := loadWithHelpers(t, opt, 2)
	n := e.InputSize
	rgb := make([]uint8, n*n*3)
	for i := range rgb {
		rgb[i] = uint8(i*7 + i/3)
	}
	got, err := e.Features(rgb)
	if err != nil {
		t.Fatal(err)
	}
	want, err := e.Int8.Features(rgb, n, n)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Data, want.Data) || got.H != want.H || got.W != want.W || !slices.Equal(got.Scale, want.Scale) {
		t.Errorf("Features on helpers differs from Int8.Features")
	}
	if hs[0].calls == 0 {
		t.Errorf("the helpers were not used")
	}
	if _, err := e.Features(rgb[:10]); err == nil {
		t.Errorf("a short model input gave no error")
	}
}
