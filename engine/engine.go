// Package engine is the one entry point the CLI and the browser worker share:
// load a model file, classify image bytes, and return the prediction together
// with the patch evidence behind it. Data flows one way:
// image bytes -> preprocess -> model -> evidence.
package engine

import (
	"fmt"
	"github.com/bagnetweb/bagnet/geom"
	"image"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bagnetweb/bagnet/model"
	"github.com/bagnetweb/bagnet/model/kernel"
	"github.com/bagnetweb/bagnet/preprocess"
	"github.com/bagnetweb/bagnet/protocol"
	"github.com/bagnetweb/bagnet/weights"
)

// Engine runs one loaded model.
type Engine struct {
	*weights.Model

	// Helpers, when set, run bands of every int8 forward pass elsewhere
	// (other Web Workers, each with its own copy of the model): the final
	// map is split into up to len(Helpers)+1 bands of rows, band 0 runs
	// here. The joined map is byte-identical to a single run. A helper that
	// fails is dropped (OnHelperError is told) and its band is recomputed
	// here, so a result is never lost. Set Helpers before the engine is
	// used; a call drops its failed helpers only once it is over.
	Helpers       []Helper
	OnHelperError func(h Helper, err error)
	// MinShareMACs is the least work for which an occlusion's block is
	// shared with the Helpers; 0 means DefaultMinShareMACs.
	MinShareMACs int64
	// HelperTimeout, when positive, is one deadline for all the helpers'
	// bands of a pass: a helper not back by then counts as failed. 0 waits
	// as long as the helpers' own waits do.
	HelperTimeout time.Duration

	helperMu sync.Mutex // guards Helpers against a drop during another call
}

// Helper computes blocks of the int8 feature map for an Engine.
type Helper interface {
	// Start begins computing the block of final-map rows [rows[0],
	// rows[1]) and columns [cols[0], cols[1]) (model.QNet.FeatureRect) for
	// the model input rgb (InputSize x InputSize RGB) and returns a
	// function that waits for its bytes (HWC, as model.QMap.Data).
	Start(rgb []uint8, rows, cols [2]int) (wait func() ([]uint8, error))
}

// MinBandRows is the fewest final-map rows a band of a whole-image pass
// gets: about one patch (q/8 rows), so that the halo, the q-8 input rows a
// band recomputes from its neighbour, stays below about half of its own
// work.
func (e *Engine) MinBandRows() int {
	return (e.Config.Patch() + model.Stride - 1) / model.Stride
}

// Bands is how the final map of the model input is split among up to
// workers workers (this engine and its helpers: len(e.Helpers)+1).
func (e *Engine) Bands(workers int) [][2]int {
	h, _ := e.Config.MapSize(e.InputSize, e.InputSize)
	return model.Bands(h, workers, e.MinBandRows())
}

// DefaultMinShareMACs is the least work (multiply-accumulates of the pixels
// it sees) for which a block of the map (an occlusion's) is shared with the
// helpers, unless Engine.MinShareMACs says otherwise: below it a message's
// round trip to another worker costs more than the work it saves. In
// Chromium on this project's 2-core machine a 33 x 33 occlusion of the
// shipped model (0.06 GMAC, 9 ms on one worker) took 11 ms shared with a
// band worker, one of the full-size BagNet-33 (2.6 GMAC, 72-98 ms) 50-83 ms.
const DefaultMinShareMACs = 200_000_000

// blockBands is how the rows of a block of the map [rows) x [cols) (an
// occlusion's) are split among up to workers workers. A small block is all
// halo, so its bands may be as thin as half a patch: that spends more work
// in all (the workers are otherwise idle) to answer an edit sooner. A
// block under MinShareMACs (DefaultMinShareMACs when 0) stays in one band.
func (e *Engine) blockBands(rows, cols [2]int, workers int) [][2]int {
	y0, y1 := e.Config.BandInput(rows[0], rows[1])
	x0, x1 := e.Config.BandInput(cols[0], cols[1])
	least := e.MinShareMACs
	if least == 0 {
		least = DefaultMinShareMACs
	}
	if e.Config.MACs(y1-y0, x1-x0) < least {
		workers = 1
	}
	bands := model.Bands(rows[1]-rows[0], workers, (e.MinBandRows()+1)/2)
	for i := range bands {
		bands[i][0] += rows[0]
		bands[i][1] += rows[0]
	}
	return bands
}

// Features is the int8 network's final feature map of a model input
// (InputSize x InputSize RGB bytes, as preprocess.Input makes it), computed
// in bands on the helpers when there are any: byte for byte what
// Int8.Features gives (package teach pools it). It needs an int8 model.
func (e *Engine) Features(rgb []uint8) (*model.QMap, error) {
	if e.Int8 == nil {
		return nil, fmt.Errorf("engine: a float32 model has no int8 features")
	}
	n := e.InputSize
	if len(rgb) != n*n*3 {
		return nil, fmt.Errorf("engine: model input is %d bytes, want %dx%dx3", len(rgb), n, n)
	}
	return e.int8Features(rgb, n)
}

// int8Features runs the int8 network on the model input, in bands on the
// helpers when there are any.
func (e *Engine) int8Features(rgb []uint8, n int) (*model.QMap, error) {
	hs := e.helpers()
	bands := e.Bands(len(hs) + 1)
	if len(bands) == 1 {
		return e.Int8.Features(rgb, n, n)
	}
	_, w := e.Config.MapSize(n, n)
	f, _, err := e.int8Block(rgb, n, hs, bands, [2]int{0, w})
	return f, err
}

// helpers is a snapshot of e.Helpers: a call works with the helpers it
// started with, whatever another call drops meanwhile.
func (e *Engine) helpers() []Helper {
	e.helperMu.Lock()
	defer e.helperMu.Unlock()
	return slices.Clone(e.Helpers)
}

// dropHelpers removes the failed helpers from e.Helpers once a call is over
// and tells OnHelperError, in band order.
func (e *Engine) dropHelpers(failed []helperFailure) {
	if len(failed) == 0 {
		return
	}
	e.helperMu.Lock()
	e.Helpers = slices.DeleteFunc(e.Helpers, func(h Helper) bool {
		return slices.ContainsFunc(failed, func(f helperFailure) bool { return f.h == h })
	})
	e.helperMu.Unlock()
	if e.OnHelperError != nil {
		for _, f := range failed {
			e.OnHelperError(f.h, f.err)
		}
	}
}

// helperFailure is a helper whose band did not come back, and why.
type helperFailure struct {
	h   Helper
	err error
}

// bandReply is what a helper's wait returned for band i.
type bandReply struct {
	i    int
	data []uint8
	err  error
}

// int8Block computes the block of the final map made of the row bands
// (contiguous, in order) and columns cols: band 0 here, band i on helper
// hs[i-1]. All helpers are waited for at once (one goroutine each, one
// collection point), so HelperTimeout, when set, bounds the whole call
// rather than each helper in turn. A helper that fails, answers with the
// wrong size or misses the deadline is dropped once the call is over
// (OnHelperError) and its band recomputed here. workers is how many
// workers' bands made it in.
func (e *Engine) int8Block(rgb []uint8, n int, hs []Helper, bands [][2]int, cols [2]int) (f *model.QMap, workers int, err error) {
	var deadline <-chan time.Time
	if e.HelperTimeout > 0 {
		t := time.NewTimer(e.HelperTimeout)
		defer t.Stop()
		deadline = t.C
	}
	replies := make(chan bandReply, len(bands)) // buffered: a late helper never blocks
	for i := 1; i < len(bands); i++ {
		wait := hs[i-1].Start(rgb, bands[i], cols)
		go func() {
			defer func() {
				if r := recover(); r != nil {
					replies <- bandReply{i: i, err: fmt.Errorf("helper panicked: %v", r)}
				}
			}()
			data, err := wait()
			replies <- bandReply{i, data, err}
		}()
	}
	here := func(b [2]int) (*model.QMap, error) {
		return e.Int8.FeatureRect(rgb, n, n, b[0], b[1], cols[0], cols[1])
	}
	parts := make([]*model.QMap, len(bands))
	if parts[0], err = here(bands[0]); err != nil {
		return nil, 0, err
	}
	errs := make([]error, len(bands))
	take := func(r bandReply) {
		rows := bands[r.i][1] - bands[r.i][0]
		if r.err == nil && len(r.data) != rows*parts[0].W*parts[0].C {
			r.err = fmt.Errorf("block rows [%d, %d) x columns [%d, %d) came back with %d bytes, want %d",
				bands[r.i][0], bands[r.i][1], cols[0], cols[1], len(r.data), rows*parts[0].W*parts[0].C)
		}
		if r.err != nil {
			errs[r.i] = r.err
			return
		}
		parts[r.i] = &model.QMap{H: rows, W: parts[0].W, C: parts[0].C, Data: r.data, Scale: parts[0].Scale}
	}
	for pending := len(bands) - 1; pending > 0; {
		select {
		case r := <-replies:
			take(r)
			pending--
		case <-deadline:
			for drained := false; !drained; { // what came in with the deadline still counts
				select {
				case r := <-replies:
					take(r)
				default:
					drained = true
				}
			}
			for i := 1; i < len(bands); i++ {
				if parts[i] == nil && errs[i] == nil {
					errs[i] = fmt.Errorf("no answer within %v", e.HelperTimeout)
				}
			}
			pending = 0
		}
	}
	var failed []helperFailure
	workers = len(bands)
	for i := 1; i < len(bands); i++ {
		if errs[i] == nil {
			continue
		}
		failed = append(failed, helperFailure{hs[i-1], errs[i]})
		workers--
		if parts[i], err = here(bands[i]); err != nil {
			e.dropHelpers(failed)
			return nil, 0, err
		}
	}
	e.dropHelpers(failed)
	if len(parts) == 1 {
		return parts[0], 1, nil
	}
	f, err = model.JoinRows(parts)
	return f, workers, err
}

// New wraps a loaded model.
func New(m *weights.Model) *Engine { return &Engine{Model: m} }

// UseKernels runs the model on k: the int8 network re-packs its weights
// for k; the float network runs its GEMMs on k.
func (e *Engine) UseKernels(k kernel.Kernels) {
	if e.Int8 != nil {
		e.Int8.UseKernels(k)
	}
	if e.Float != nil {
		e.Float.Kernels = k
	}
}

// Load parses a model file held in memory.
func Load(b []byte) (*Engine, error) {
	m, err := weights.Load(b)
	if err != nil {
		return nil, err
	}
	return New(m), nil
}

// LoadFile reads a model file.
func LoadFile(path string) (*Engine, error) {
	m, err := weights.LoadFile(path)
	if err != nil {
		return nil, err
	}
	return New(m), nil
}

// Analysis is a classification with everything needed to explain it.
type Analysis struct {
	protocol.Result
	Transform preprocess.Transform // source image <-> model input geometry
	Input     []uint8              // the model input, InputSize^2 RGB bytes (HWC)
	Timings   protocol.Timings

	feat  *model.QMap // int8 features
	ffeat *model.Map  // float features
	e     *Engine
}

// Label is the display name of the model.
func (e *Engine) Label() string {
	if e.Name != "" {
		return e.Name
	}
	return fmt.Sprintf("%s width %g (%s)", e.Config.Arch, e.Config.Width, e.DType)
}

// Classify decodes image bytes, preprocesses them as the model file says and
// runs the network. topK predictions come first in Result.Top.
func (e *Engine) Classify(img []byte, topK int) (*Analysis, error) {
	t0 := time.Now()
	src, _, err := preprocess.Decode(img)
	if err != nil {
		return nil, err
	}
	a, err := e.ClassifyImage(src, topK)
	if err != nil {
		return nil, err
	}
	a.Timings.DecodeMs = ms(time.Since(t0)) - a.Timings.PreprocessMs - a.Timings.InferMs
	return a, nil
}

// ClassifyImage preprocesses a decoded image as the model file says
// (preprocess.Input) and runs the network.
func (e *Engine) ClassifyImage(src image.Image, topK int) (*Analysis, error) {
	t0 := time.Now()
	mode, err := preprocess.ParseMode(e.Resize)
	if err != nil {
		return nil, err
	}
	rgb, tr, err := preprocess.Input(src, mode, e.InputSize)
	if err != nil {
		return nil, err
	}
	t1 := time.Now()
	a, err := e.ClassifyRGB(rgb, tr, topK)
	if err != nil {
		return nil, err
	}
	a.Timings.PreprocessMs = ms(t1.Sub(t0))
	return a, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// ClassifyRGB runs the network on an already preprocessed model input
// (InputSize x InputSize RGB bytes) described by tr.
func (e *Engine) ClassifyRGB(rgb []uint8, tr preprocess.Transform, topK int) (*Analysis, error) {
	n := e.InputSize
	if len(rgb) != n*n*3 {
		return nil, fmt.Errorf("engine: model input is %d bytes, want %dx%dx3", len(rgb), n, n)
	}
	t0 := time.Now()
	a := &Analysis{Transform: tr, Input: rgb, e: e}
	var logits []float32
	var h, w int
	if e.Int8 != nil {
		f, err := e.int8Features(rgb, n)
		if err != nil {
			return nil, err
		}
		a.feat, logits, h, w = f, e.Int8.Logits(f), f.H, f.W
	} else {
		f, err := e.Float.Features(model.NormalizedInput(rgb, n, n, e.Mean, e.Std))
		if err != nil {
			return nil, err
		}
		a.ffeat, logits, h, w = f, e.Float.Logits(f), f.H, f.W
	}
	a.Timings.InferMs = ms(time.Since(t0))
	a.Result = protocol.Result{Model: e.Label(), Logits: logits, Map: protocol.MapSize{H: h, W: w}, Top: e.Top(logits, topK)}
	return a, nil
}

// Top returns the k highest-scoring classes with softmax probabilities.
func (e *Engine) Top(logits []float32, k int) []protocol.Prediction {
	probs := Softmax(logits)
	idx := make([]int, len(logits))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return logits[idx[a]] > logits[idx[b]] })
	k = max(0, min(k, len(idx)))
	top := make([]protocol.Prediction, k)
	for i, c := range idx[:k] {
		top[i] = protocol.Prediction{Index: c, ID: e.Classes[c].ID, Name: e.Classes[c].Name, Logit: logits[c], Prob: probs[c]}
	}
	return top
}

// Softmax of logits, computed in float64: protocol.Softmax (the CLI calls
// it here).
func Softmax(logits []float32) []float32 { return protocol.Softmax(logits) }

// Evidence is class c's patch-evidence map (Map.H x Map.W, row-major): the
// contribution of each patch to logit c. Its mean plus the class bias is the
// logit. Computed on demand, so only the classes asked for cost anything.
func (a *Analysis) Evidence(c int) ([]float32, error) {
	if c < 0 || c >= len(a.Logits) {
		return nil, fmt.Errorf("engine: class %d out of range [0, %d)", c, len(a.Logits))
	}
	if a.feat != nil {
		return a.e.Int8.Evidence(a.feat, c), nil
	}
	return a.e.Float.Evidence(a.ffeat, c), nil
}

// EvidenceAll is every class's Evidence map (out[c] is class c's), the
// same values; an int8 model computes them in one pass over the map.
func (a *Analysis) EvidenceAll() ([][]float32, error) {
	if a.feat != nil {
		return a.e.Int8.EvidenceAll(a.feat), nil
	}
	out := make([][]float32, len(a.Logits))
	for c := range out {
		ev, err := a.Evidence(c)
		if err != nil {
			return nil, err
		}
		out[c] = ev
	}
	return out, nil
}

// Bias is class c's head bias (logit = mean(evidence) + bias).
func (e *Engine) Bias(c int) float32 {
	if e.Int8 != nil {
		return e.Int8.FC.Bias[c]
	}
	return e.Float.FC.Bias[c]
}

// Features returns the real-valued last feature map (H' x W' x C).
func (a *Analysis) Features() *model.Map {
	if a.feat != nil {
		return a.feat.Dequantize()
	}
	return a.ffeat
}

// CellBoxes gives evidence-map cell (i, j)'s receptive field in the model
// input (integer pixels) and in the original image.
func (a *Analysis) CellBoxes(i, j int) (input geom.Rect[int], source geom.Rect[float64]) {
	b := a.e.Config.CellBox(i, j)
	x0, y0, x1, y1 := a.Transform.ToSource(float64(b.X0), float64(b.Y0), float64(b.X1), float64(b.Y1))
	return b, geom.Rect[float64]{X0: x0, Y0: y0, X1: x1, Y1: y1}
}

// ClassIndex resolves a class given as an index, a WordNet id or a name
// (case-insensitive).
func (e *Engine) ClassIndex(s string) (int, error) {
	var i int
	if _, err := fmt.Sscanf(s, "%d", &i); err == nil && fmt.Sprint(i) == s {
		if i < 0 || i >= len(e.Classes) {
			return 0, fmt.Errorf("class index %d out of range [0, %d)", i, len(e.Classes))
		}
		return i, nil
	}
	for i, c := range e.Classes {
		if c.ID == s || strings.EqualFold(c.Name, s) {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown class %q (give an index, a WordNet id or a name)", s)
}
