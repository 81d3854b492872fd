package engine_test

import (
	"github.com/bagnetweb/bagnet/geom"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/bagnetweb/bagnet/engine"
	"github.com/bagnetweb/bagnet/internal/testmodel"
	"github.com/bagnetweb/bagnet/model"
	"github.com/bagnetweb/bagnet/preprocess"
)

// Incremental occlusion equals a full pass over the edited input bit for
// bit, edit after edit; cells whose receptive fields miss the edit keep
// their evidence exactly, and only the touching block is recomputed.
func TestOcclude(t *testing.T) {
	for i, arch := range []string{"bagnet9", "bagnet17", "bagnet33"} {
		b, err := testmodel.Int8(testmodel.Options{Arch: arch, InputSize: 96, Seed: uint64(30 + i)})
		if err != nil {
			t.Fatal(err)
		}
		e, err := engine.Load(b)
		if err != nil {
			t.Fatal(err)
		}
		n := e.InputSize
		tr := preprocess.NewTransform(preprocess.Squash, n, n, n)
		a, err := e.ClassifyRGB(model.RandomRGB(n, n, 5), tr, 3)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.Occlude(a, geom.Rect[int]{X0: -5, Y0: -5, X1: -1, Y1: -1}, engine.Grey, 1); err == nil {
			t.Error("an occlusion outside the input gave no error")
		}
		r := rand.New(rand.NewPCG(uint64(i), 1))
		q := e.Config.Patch()
		cur := a
		for k := 0; k < 4; k++ {
			x0, y0 := r.IntN(n), r.IntN(n)
			rect := geom.Rect[int]{X0: x0, Y0: y0, X1: x0 + 1 + r.IntN(20), Y1: y0 + 1 + r.IntN(20)}
			next, occ, err := e.Occlude(cur, rect, engine.Grey, 3)
			if err != nil {
				t.Fatal(err)
			}
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
			cur = next
		}
	}
}
