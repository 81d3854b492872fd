package engine_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/bagnetweb/bagnet/engine"
	"github.com/bagnetweb/bagnet/geom"
	"github.com/bagnetweb/bagnet/internal/testmodel"
	"github.com/bagnetweb/bagnet/model"
	"github.com/bagnetweb/bagnet/preprocess"
)

// Incremental occlusion equals a full pass over the edited input bit for
// bit, edit after edit; cells whose receptive fields miss the edit keep
// their evidence exactly, and only the touching block is recomputed. With
// helpers (band workers) the block is split among them, and a helper that
// fails midway changes nothing but the time.
func TestOcclude(t *testing.T) {
	for i, arch := range []string{"bagnet9", "bagnet17", "bagnet33"} {
		for _, helpers := range []int{0, 2} {
			t.Run(fmt.Sprintf("%s/%d helpers", arch, helpers), func(t *testing.T) {
				testOcclude(t, testmodel.Options{Arch: arch, InputSize: 96, Seed: uint64(30 + i)}, uint64(i), helpers)
			})
		}
	}
}

// A block of less work than DefaultMinShareMACs is not worth a message: it
// is computed here even when helpers are idle.
func TestOccludeSmallBlockStaysHere(t *testing.T) {
	opt := testmodel.Options{Arch: "bagnet33", InputSize: 96, Seed: 30}
	e, hs := loadWithHelpers(t, opt, 2)
	a, err := e.ClassifyRGB(model.RandomRGB(96, 96, 5), preprocess.NewTransform(preprocess.Squash, 96, 96, 96), 3)
	if err != nil {
		t.Fatal(err)
	}
	if macs := e.Config.MACs(96, 96); macs >= engine.DefaultMinShareMACs {
		t.Fatalf("the test model has %d MACs: not small", macs)
	}
	before := hs[0].calls + hs[1].calls
	_, occ, err := e.Occlude(a, geom.Rect[int]{X0: 20, Y0: 20, X1: 76, Y1: 76}, engine.Grey(), 3)
	if err != nil {
		t.Fatal(err)
	}
	if asked := hs[0].calls + hs[1].calls - before; asked != 0 || occ.Workers != 1 {
		t.Errorf("a %v block of a %d-MAC model went to %d helpers (%d workers)", occ.Rows, e.Config.MACs(96, 96), asked, occ.Workers)
	}
}

func testOcclude(t *testing.T, opt testmodel.Options, seed uint64, helpers int) {
	arch := opt.Arch
	e, hs := loadWithHelpers(t, opt, helpers)
	e.MinShareMACs = 1 // share every block that splits
	n := e.InputSize
	tr := preprocess.NewTransform(preprocess.Squash, n, n, n)
	a, err := e.ClassifyRGB(model.RandomRGB(n, n, 5), tr, 3)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Occlude(a, geom.Rect[int]{X0: -5, Y0: -5, X1: -1, Y1: -1}, engine.Grey(), 1); err == nil {
		t.Error("an occlusion outside the input gave no error")
	}
	r := rand.New(rand.NewPCG(seed, 1))
	q := e.Config.Patch()
	cur := a
	for k := 0; k < 6; k++ {
		x0, y0 := r.IntN(n), r.IntN(n)
		rect := geom.Rect[int]{X0: x0, Y0: y0, X1: x0 + 1 + r.IntN(20), Y1: y0 + 1 + r.IntN(20)}
		if k == 4 && helpers > 0 { // a block that is shared out, with a helper that fails
			hs[0].fail = errors.New("worker died")
			rect = geom.Rect[int]{X0: n/2 - 15, Y0: n/2 - 15, X1: n/2 + 15, Y1: n/2 + 15}
		}
		calls := func() (c int) {
			for _, h := range hs {
				c += h.calls
			}
			return c
		}
		before := calls()
		next, occ, err := e.Occlude(cur, rect, engine.Grey(), 3)
		if err != nil {
			t.Fatal(err)
		}
		asked := calls() - before
		full, err := e.ClassifyRGB(next.Input, tr, 3)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(next.Logits, full.Logits) {
			t.Fatalf("%s edit %d %v: incremental logits %v, full pass %v", arch, k, rect, next.Logits, full.Logits)
		}
		for c := 0; c < len(next.Logits); c++ {
			evN, _ := next.Evidence(c)
			evF, _ := full.Evidence(c)
			evC, _ := cur.Evidence(c)
			if !slices.Equal(evN, evF) {
				t.Fatalf("%s edit %d class %d: evidence differs from a full pass", arch, k, c)
			}
			for cell := range evN {
				ci, cj := cell/next.Map.W, cell%next.Map.W
				bx := e.Config.CellBox(ci, cj)
				sees := bx.X0 < occ.Rect.X1 && bx.X1 > occ.Rect.X0 && bx.Y0 < occ.Rect.Y1 && bx.Y1 > occ.Rect.Y0
				inBlock := ci >= occ.Rows[0] && ci < occ.Rows[1] && cj >= occ.Cols[0] && cj < occ.Cols[1]
				if sees && !inBlock {
					t.Fatalf("%s: cell (%d,%d) sees the edit %v but is outside the recomputed block %v x %v", arch, ci, cj, occ.Rect, occ.Rows, occ.Cols)
				}
				if !sees && evN[cell] != evC[cell] {
					t.Fatalf("%s: cell (%d,%d) misses the edit but its evidence changed", arch, ci, cj)
				}
			}
		}
		if occ.Recomputed != (occ.Rows[1]-occ.Rows[0])*(occ.Cols[1]-occ.Cols[0]) || occ.Recomputed >= next.Map.H*next.Map.W && rect.X1-rect.X0 < q/2 {
			t.Errorf("%s: %d cells recomputed for %v", arch, occ.Recomputed, rect)
		}
		// A block of at least two half-patch bands is shared out.
		if rows, min := occ.Rows[1]-occ.Rows[0], 2*((e.MinBandRows()+1)/2); helpers > 0 && occ.Recomputed > 0 && rows >= min && asked == 0 {
			t.Errorf("%s edit %d: a %d-row block was not shared with the helpers", arch, k, rows)
		}
		want := 1 + asked // this engine, and each helper asked
		if k == 4 && want > 1 {
			want-- // the one that failed
		}
		if occ.Recomputed == 0 {
			want = 0
		}
		if occ.Workers != want {
			t.Errorf("%s edit %d: occlusion says %d workers, want %d", arch, k, occ.Workers, want)
		}
		cur = next
	}
	if helpers > 0 && len(e.Helpers) != helpers-1 {
		t.Errorf("%s: %d helpers left after one failed, want %d", arch, len(e.Helpers), helpers-1)
	}
}
