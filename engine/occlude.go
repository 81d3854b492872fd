package engine

import (
	"fmt"
	"slices"
	"time"

	"github.com/bagnetweb/bagnet/geom"
	"github.com/bagnetweb/bagnet/model"
	"github.com/bagnetweb/bagnet/protocol"
)

// Grey is the occluder's colour: the middle of the byte range on all
// channels (close to the ImageNet mean).
func Grey() [3]uint8 { return [3]uint8{128, 128, 128} }

// Occlusion says what an edit changed.
type Occlusion struct {
	Rect       geom.Rect[int] // the model-input pixels painted over (clipped)
	Rows, Cols [2]int         // the half-open block of cells whose receptive fields touch it
	Recomputed int            // cells recomputed (the block); the others are copied
	Workers    int            // how many workers shared the block (this one and helpers)
}

// Occlude paints rect (model-input pixels) of a's input with fill and
// classifies the result. BagNet's locality makes this cheap: only the cells
// whose receptive fields touch the edit can change, so for an int8 model
// only that block of the feature map is recomputed (QNet.FeatureRect, in
// bands on the Helpers when it is worth it) and the rest is copied from a.
// The result equals a full pass over the edited input bit for bit (float
// models do run a full pass).
func (e *Engine) Occlude(a *Analysis, rect geom.Rect[int], fill [3]uint8, topK int) (*Analysis, Occlusion, error) {
	n := e.InputSize
	r := geom.Rect[int]{X0: max(0, rect.X0), Y0: max(0, rect.Y0), X1: min(n, rect.X1), Y1: min(n, rect.Y1)}
	if r.X0 >= r.X1 || r.Y0 >= r.Y1 {
		return nil, Occlusion{}, fmt.Errorf("engine: occlusion %v misses the %dx%d model input", rect, n, n)
	}
	if len(a.Input) != n*n*3 {
		return nil, Occlusion{}, fmt.Errorf("engine: the analysis is not of this model's %dx%d input", n, n)
	}
	t0 := time.Now()
	rgb := slices.Clone(a.Input)
	for y := r.Y0; y < r.Y1; y++ {
		for x := r.X0; x < r.X1; x++ {
			copy(rgb[(y*n+x)*3:], fill[:])
		}
	}
	h, w := a.Map.H, a.Map.W
	occ := Occlusion{Rect: r, Rows: touching(r.Y0, r.Y1, h, e.Config.Patch()), Cols: touching(r.X0, r.X1, w, e.Config.Patch())}
	occ.Recomputed = (occ.Rows[1] - occ.Rows[0]) * (occ.Cols[1] - occ.Cols[0])
	if e.Int8 == nil || a.feat == nil { // float: a full pass
		b, err := e.ClassifyRGB(rgb, a.Transform, topK)
		occ.Recomputed, occ.Workers = h*w, 1
		return b, occ, err
	}
	f := &model.QMap{H: a.feat.H, W: a.feat.W, C: a.feat.C, Data: slices.Clone(a.feat.Data), Scale: a.feat.Scale}
	if occ.Recomputed > 0 { // else the edit lies where no patch looks
		hs := e.helpers()
		blk, workers, err := e.int8Block(rgb, n, hs, e.blockBands(occ.Rows, occ.Cols, len(hs)+1), occ.Cols)
		occ.Workers = workers
		if err != nil {
			return nil, occ, err
		}
		if err := f.Paste(blk, occ.Rows[0], occ.Cols[0]); err != nil {
			return nil, occ, err
		}
	}
	logits := e.Int8.Logits(f)
	b := &Analysis{Transform: a.Transform, Input: rgb, feat: f, e: e}
	b.Result = protocol.Result{Model: e.Label(), Logits: logits, Map: a.Map, Top: e.Top(logits, topK)}
	b.Timings.InferMs = ms(time.Since(t0))
	return b, occ, nil
}

// touching is the half-open range of cells (of m, Stride apart, q pixels
// wide) whose receptive fields [Stride*i, Stride*i+q) meet pixels [p0, p1).
func touching(p0, p1, m, q int) [2]int {
	lo, hi := m, 0
	for i := 0; i < m; i++ {
		if model.Stride*i < p1 && model.Stride*i+q > p0 {
			lo, hi = min(lo, i), max(hi, i+1)
		}
	}
	if lo >= hi {
		return [2]int{0, 0}
	}
	return [2]int{lo, hi}
}
