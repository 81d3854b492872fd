package main

import (
	"slices"
	"strings"
	"testing"
)

// A live frame already at the input size gives what the exact path gives
// for the same pixels (a 64x64 PNG, which squash mode does not resample):
// the same top classes and the same evidence map of the top class.
func TestLiveMatchesClassify(t *testing.T) {
	e, _ := testEngine(t)
	w := worker{eng: e}
	for seed := range 3 {
		a, m, err := w.classify(1, pngBytes(t, 64, 64, seed), 5, clock())
		if err != nil {
			t.Fatal(err)
		}
		rgba := make([]byte, 0, 64*64*4)
		for p := 0; p < len(a.Input); p += 3 {
			rgba = append(rgba, a.Input[p], a.Input[p+1], a.Input[p+2], byte(seed*40)) // alpha is ignored
		}
		r, ev, err := w.live(rgba, 64, 5, clock())
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(r.Top, m.Result.Top) {
			t.Errorf("seed %d: live top %+v, classify %+v", seed, r.Top, m.Result.Top)
		}
		if r.Class != m.Result.Top[0].Index || r.Map != m.Result.Map || r.Bias != m.Bias[r.Class] {
			t.Errorf("seed %d: live class %d map %v bias %v; classify %d %v %v", seed, r.Class, r.Map, r.Bias,
				m.Result.Top[0].Index, m.Result.Map, m.Bias[r.Class])
		}
		if !slices.Equal(ev, m.Maps[r.Class]) {
			t.Errorf("seed %d: live evidence differs from classify's", seed)
		}
		if tm := r.Times; tm == nil || tm.Input > tm.Inferred || tm.Inferred > tm.Evidence {
			t.Errorf("seed %d: live times %+v, want input <= inferred <= evidence", seed, tm)
		}
		if len(w.mem.ids) != 1 {
			t.Errorf("seed %d: a live frame was kept", seed)
		}
	}
}

func TestLiveErrors(t *testing.T) {
	e, _ := testEngine(t)
	for _, tc := range []struct {
		name string
		w    worker
		n    int
		size int
		want string
	}{
		{"no model", worker{}, 64 * 64 * 4, 64, "not loaded"},
		{"wrong size", worker{eng: e}, 32 * 32 * 4, 32, "frame is 32x32 pixels, the model takes 64x64"},
		{"short pixels", worker{eng: e}, 64 * 64 * 3, 64, "want 64x64x4 (RGBA)"},
	} {
		_, _, err := tc.w.live(make([]byte, tc.n), tc.size, 5, clock())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one saying %q", tc.name, err, tc.want)
		}
	}
}
