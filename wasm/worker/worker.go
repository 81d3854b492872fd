// Command worker is the page's inference Web Worker (GOOS=js GOARCH=wasm):
// it loads the model once and classifies images sent by the UI thread,
// answering with the prediction and the patch evidence behind it. Only the
// engine packages are linked in (no UI framework). The JavaScript glue is
// web/worker.js; the messages are package protocol's.
//
// This file holds the parts that do not touch JavaScript, so they are tested
// natively.
package main

import (
	"errors"
	"fmt"
	"github.com/bagnetweb/bagnet/geom"
	"slices"
	"strings"
	"time"

	"github.com/bagnetweb/bagnet/engine"
	"github.com/bagnetweb/bagnet/model"
	"github.com/bagnetweb/bagnet/model/kernel"
	"github.com/bagnetweb/bagnet/preprocess"
	"github.com/bagnetweb/bagnet/protocol"
	"github.com/bagnetweb/bagnet/scramble"
	"github.com/bagnetweb/bagnet/teach"
	"github.com/bagnetweb/bagnet/weights"
)

// newInfo describes e; size is the model file's size in bytes.
func newInfo(e *engine.Engine, size int) protocol.Info {
	c := e.Config
	h, w := c.MapSize(e.InputSize, e.InputSize)
	return protocol.Info{
		Name: e.Label(), Arch: c.Arch, Width: c.Width, Classes: e.Classes,
		InputSize: e.InputSize, Resize: e.Resize, DType: e.DType,
		Patch: c.Patch(), Stride: model.Stride, MapH: h, MapW: w,
		MACs: c.MACs(e.InputSize, e.InputSize), Params: c.NumParams(),
		WeightsBytes: size, Meta: e.Info, Prior: e.Prior != nil,
	}
}

// allMapsUpTo is the largest class count for which every class's evidence
// map is sent with a result (so hovering a patch can rank all classes);
// beyond it only the top-K maps are sent and others come on request.
const allMapsUpTo = 32

// evidenceClasses lists the classes whose maps go with a result.
func evidenceClasses(classes int, top []protocol.Prediction) []int {
	if classes <= allMapsUpTo {
		all := make([]int, classes)
		for i := range all {
			all[i] = i
		}
		return all
	}
	cs := make([]int, len(top))
	for i, p := range top {
		cs[i] = p.Index
	}
	return cs
}

// resultMsg is a result message (protocol.ResultReply): its JSON part and
// the evidence maps that travel beside it as typed arrays.
type resultMsg struct {
	protocol.Meta
	Classes []int // classes whose maps are sent
	Maps    map[int][]float32
	Thumb   string                    // protocol.ResultReply.Thumb, when asked for (thumb.go)
	Patches *protocol.PatchCandidates // a batch image's (patches.go), nil when not asked
}

// keep is how many analyses the worker remembers for follow-up requests
// (evidence maps, scrambles, occlusions and their undo history).
const keep = 32

// store remembers the latest analyses by request id.
type store struct {
	ids []int
	m   map[int]*engine.Analysis
}

func (s *store) put(id int, a *engine.Analysis) {
	if s.m == nil {
		s.m = map[int]*engine.Analysis{}
	}
	if _, ok := s.m[id]; !ok {
		s.ids = append(s.ids, id)
	}
	s.m[id] = a
	for len(s.ids) > keep {
		delete(s.m, s.ids[0])
		s.ids = slices.Delete(s.ids, 0, 1)
	}
}

func (s *store) get(id int) (*engine.Analysis, error) {
	a, ok := s.m[id]
	if !ok {
		return nil, fmt.Errorf("analysis %d is no longer available: classify the image again", id)
	}
	return a, nil
}

// errNoModel is returned for requests that arrive before a model is loaded.
var errNoModel = errors.New("the model is not loaded yet")

// worker is the inference worker (or a band worker): it answers requests
// with one loaded model.
type worker struct {
	eng     *engine.Engine
	mem     store
	kernels kernel.Kernels // what the model runs on
	kernel  string         // and its description for the page
	helpers []*helper      // band workers (js/wasm only)
	// due is the deadline of the request being served (startRequest),
	// shared by every band worker that takes part in it.
	due      time.Time
	warmupMs float64 // the model's warm-up pass (protocol.Pass)

	failAfter, rowsServed int  // a band worker's test failure (?failbands)
	hangAfter             int  // a band worker's test hang (?hangbands)
	testHooks             bool // obey protocol.KindHang and KindCrash (?testhooks=1)

	examples []teach.Example // the teaching examples (KindFeatures), in order
}

// startRequest fixes the deadline by which the band workers must have
// answered for the request that starts now: one deadline for the whole
// request, whatever number of band workers and blocks it uses.
func (w *worker) startRequest() {
	var macs int64
	if w.eng != nil {
		macs = w.eng.Config.MACs(w.eng.InputSize, w.eng.InputSize)
	}
	w.due = time.Now().Add(protocol.HelperDeadline(macs, w.warmupMs))
}

// awaitBy waits for ch until due: ok is false when due passed first. An
// answer that is already there is taken even when due has passed, so
// waiting on several helpers one after another, each by the same due,
// costs one deadline in all, however many of them hang.
func awaitBy[T any](ch <-chan T, due time.Time) (v T, ok bool) {
	select {
	case v = <-ch:
		return v, true
	default:
	}
	t := time.NewTimer(time.Until(due))
	defer t.Stop()
	select {
	case v = <-ch:
		return v, true
	case <-t.C:
	}
	select { // it came in with the timer
	case v = <-ch:
		return v, true
	default:
		return v, false
	}
}

// busy busy-loops for d (a test hook: a worker slow on a request).
func busy(d time.Duration) {
	for t0 := time.Now(); time.Since(t0) < d; {
		spin++
	}
}

// spin is written by hang so that its loop has an effect.
var spin uint64

// hang busy-loops for ever, as a worker stuck in a computation would (a
// test hook: ?testhooks=1). Go in WebAssembly runs on one thread with no
// preemption: nothing else in this worker runs again.
func hang() {
	for {
		spin++
	}
}

// describe computes the evidence maps and metadata sent with analysis a.
func (w *worker) describe(a *engine.Analysis, sc *protocol.Scramble, ms func() float64) (*resultMsg, error) {
	m := &resultMsg{Meta: protocol.Meta{Result: a.Result, Bias: map[int]float32{},
		Transform: a.Transform.Wire(), Scramble: sc}, Maps: map[int][]float32{}}
	t0 := ms()
	m.Classes = evidenceClasses(len(a.Logits), a.Top)
	for _, c := range m.Classes {
		ev, err := a.Evidence(c)
		if err != nil {
			return nil, err
		}
		m.Maps[c] = ev
		m.Bias[c] = w.eng.Bias(c)
	}
	m.Timings = a.Timings
	m.Timings.EvidenceMs = ms() - t0
	return m, nil
}

// classify runs the model on encoded image bytes.
func (w *worker) classify(id int, img []byte, topK int, ms func() float64) (*engine.Analysis, *resultMsg, error) {
	if w.eng == nil {
		return nil, nil, errNoModel
	}
	a, err := w.eng.Classify(img, topK)
	if err != nil {
		return nil, nil, err
	}
	m, err := w.describe(a, nil, ms)
	if err != nil {
		return nil, nil, err
	}
	w.mem.put(id, a)
	return a, m, nil
}

// scramble shuffles the tiles of analysis of's model input with the given
// seed and classifies the result.
func (w *worker) scramble(id, of int, seed int64, topK int, ms func() float64) (*engine.Analysis, *resultMsg, error) {
	if w.eng == nil {
		return nil, nil, errNoModel
	}
	orig, err := w.mem.get(of)
	if err != nil {
		return nil, nil, err
	}
	t, err := scramble.NewTiling(w.eng.InputSize, w.eng.Config.Patch())
	if err != nil {
		return nil, nil, err
	}
	perm := t.Permutation(uint64(seed))
	rgb, err := t.Apply(orig.Input, perm)
	if err != nil {
		return nil, nil, err
	}
	a, err := w.eng.ClassifyRGB(rgb, orig.Transform, topK)
	if err != nil {
		return nil, nil, err
	}
	m, err := w.describe(a, &protocol.Scramble{Of: of, Seed: seed, Tiling: t, Perm: perm}, ms)
	if err != nil {
		return nil, nil, err
	}
	w.mem.put(id, a)
	return a, m, nil
}

// occlude paints rect (model-input pixels) of analysis of's input grey and
// classifies the result, recomputing only the cells that see the edit.
func (w *worker) occlude(id, of int, rect [4]int, topK int, ms func() float64) (*engine.Analysis, *resultMsg, error) {
	if w.eng == nil {
		return nil, nil, errNoModel
	}
	orig, err := w.mem.get(of)
	if err != nil {
		return nil, nil, err
	}
	a, occ, err := w.eng.Occlude(orig, geom.Rect[int]{X0: rect[0], Y0: rect[1], X1: rect[2], Y1: rect[3]}, engine.Grey(), topK)
	if err != nil {
		return nil, nil, err
	}
	m, err := w.describe(a, nil, ms)
	if err != nil {
		return nil, nil, err
	}
	m.Occlusion = wireOcclusion(of, occ, a)
	w.mem.put(id, a)
	return a, m, nil
}

// wireOcclusion is what an occlusion of analysis of changed, as the page
// gets it (a: the edited analysis).
func wireOcclusion(of int, occ engine.Occlusion, a *engine.Analysis) *protocol.Occlusion {
	r := occ.Rect
	return &protocol.Occlusion{Of: of, Rect: [4]int{r.X0, r.Y0, r.X1, r.Y1}, Rows: occ.Rows, Cols: occ.Cols,
		Recomputed: occ.Recomputed, Workers: occ.Workers, Cells: a.Map.H * a.Map.W}
}

// evidence is class c's map for an earlier analysis.
func (w *worker) evidence(id, c int) ([]float32, float32, error) {
	if w.eng == nil {
		return nil, 0, errNoModel
	}
	a, err := w.mem.get(id)
	if err != nil {
		return nil, 0, err
	}
	ev, err := a.Evidence(c)
	if err != nil {
		return nil, 0, err
	}
	return ev, w.eng.Bias(c), nil
}

// block is the block of final-map rows [r0, r1) and columns [c0, c1) of
// the int8 features for a model input (a band worker's job).
func (w *worker) block(rgb []uint8, r0, r1, c0, c1 int) ([]uint8, error) {
	if w.eng == nil {
		return nil, errNoModel
	}
	if w.eng.Int8 == nil {
		return nil, errors.New("rows: the model is not int8")
	}
	n := w.eng.InputSize
	f, err := w.eng.Int8.FeatureRect(rgb, n, n, r0, r1, c0, c1)
	if err != nil {
		return nil, err
	}
	return f.Data, nil
}

// warmUp runs the network once on a random input, so that the first image
// of the user does not wait for the engine to compile and tier up, and
// returns how long it took (ms), or why it failed.
func (w *worker) warmUp() (float64, error) {
	if w.eng == nil {
		return 0, errNoModel
	}
	t0 := time.Now()
	n := w.eng.InputSize
	if _, err := w.eng.ClassifyRGB(model.RandomRGB(n, n, 1), preprocess.NewTransform(preprocess.Squash, n, n, n), 1); err != nil {
		return 0, fmt.Errorf("the warm-up pass: %w", err)
	}
	return float64(time.Since(t0).Microseconds()) / 1000, nil
}

// bandWarmUp runs a band worker's engine once on the fewest rows a band
// has (the whole width; the whole map when it is smaller), so that its
// first block does not wait for the engine to compile and tier up.
func bandWarmUp(eng *engine.Engine) error {
	if eng.Int8 == nil {
		return nil
	}
	n := eng.InputSize
	mh, mw := eng.Config.MapSize(n, n)
	if _, err := eng.Int8.FeatureRect(model.RandomRGB(n, n, 1), n, n, 0, min(eng.MinBandRows(), mh), 0, mw); err != nil {
		return fmt.Errorf("the band worker's warm-up pass: %w", err)
	}
	return nil
}

// recorder times every U8I8 and Requant call of the kernels it wraps.
type recorder struct {
	kernel.Kernels
	calls     []protocol.GEMMRecord
	requantMs float64
}

func (r *recorder) Requant(rows int, acc []int32, q *kernel.Requant, res32 []int32, res8 []uint8, rq *kernel.Requant, out []uint8) {
	t0 := time.Now()
	r.Kernels.Requant(rows, acc, q, res32, res8, rq, out)
	r.requantMs += float64(time.Since(t0).Microseconds()) / 1000
}

func (r *recorder) U8I8(m int, a []uint8, b *kernel.PackedI8, c []int32) {
	t0 := time.Now()
	r.Kernels.U8I8(m, a, b, c)
	r.calls = append(r.calls, protocol.GEMMRecord{M: m, N: b.N, K: b.K, Ms: float64(time.Since(t0).Microseconds()) / 1000})
}

// bench classifies a random model input runs times (with the band workers
// when there are any), then once more with every GEMM of this worker timed;
// then it occludes a patch-sized square at the centre of that input runs
// times (int8 models: recomputing the block, shared out like a pass).
func (w *worker) bench(runs int, ms func() float64) (*protocol.Bench, error) {
	if w.eng == nil {
		return nil, errNoModel
	}
	n := w.eng.InputSize
	rgb := model.RandomRGB(n, n, 7)
	tr := preprocess.NewTransform(preprocess.Squash, n, n, n)
	b := &protocol.Bench{Size: n, MACs: w.eng.Config.MACs(n, n)}
	runs = max(1, min(runs, 100))
	var a *engine.Analysis
	for i := 0; i < runs; i++ {
		t0 := ms()
		var err error
		if a, err = w.eng.ClassifyRGB(rgb, tr, 5); err != nil {
			return nil, err
		}
		b.RunsMs = append(b.RunsMs, ms()-t0)
	}
	if w.eng.Int8 != nil {
		rec := &recorder{Kernels: w.kernels}
		w.eng.Int8.UseKernels(rec)
		t0 := ms()
		_, err := w.eng.ClassifyRGB(rgb, tr, 5)
		b.TimedMs = ms() - t0
		w.eng.Int8.UseKernels(w.kernels)
		if err != nil {
			return nil, err
		}
		b.GEMMs, b.RequantMs = rec.calls, rec.requantMs
		q := w.eng.Config.Patch()
		sq := geom.Rect[int]{X0: (n - q) / 2, Y0: (n - q) / 2, X1: (n + q) / 2, Y1: (n + q) / 2}
		for i := 0; i < runs; i++ {
			t0 := ms()
			_, occ, err := w.eng.Occlude(a, sq, engine.Grey(), 5)
			if err != nil {
				return nil, err
			}
			b.OccludeMs = append(b.OccludeMs, ms()-t0)
			b.Occlusion = wireOcclusion(-1, occ, a)
		}
	}
	return b, nil
}

// features computes the teaching example of class class from an encoded
// image with the model in use (example, each pass in bands on the band
// workers) and keeps it; reset forgets the ones kept before. Its reply
// says how many examples the worker holds.
func (w *worker) features(img []byte, class int, reset bool, ms func() float64) (*protocol.FeaturesReply, error) {
	if err := w.canTeach([]int{class}); err != nil {
		return nil, err
	}
	if reset {
		w.examples = nil
	}
	ex, prep, pass, err := w.example(img, class, true, ms)
	if err != nil {
		return nil, err
	}
	w.examples = append(w.examples, ex)
	return &protocol.FeaturesReply{Header: protocol.Header{Type: protocol.KindFeatures}, Examples: len(w.examples), PrepMs: prep, PassMs: pass}, nil
}

// canTeach says why the model in use cannot compute teaching examples of
// the classes, nil when it can.
func (w *worker) canTeach(classes []int) error {
	if w.eng == nil {
		return errNoModel
	}
	if w.eng.Int8 == nil {
		return errors.New("the model in use is a float32 model: teaching needs an int8 model (make one with 'bagnet convert')")
	}
	for _, c := range classes {
		if c < 0 {
			return fmt.Errorf("class %d: want an index from 0", c)
		}
	}
	return nil
}

// example is the teaching example of class class of an encoded image, as
// 'bagnet teach' computes it (preprocess.Image, then teach.Extract's
// pooled maps of the image and its mirror image), and the time spent
// decoding and resizing it (prepMs) and in the network (passMs). banded
// runs each pass in bands on the band workers (byte for byte the same
// map; each pass gets its own deadline), else here alone.
func (w *worker) example(img []byte, class int, banded bool, ms func() float64) (ex teach.Example, prepMs, passMs float64, err error) {
	if err := w.canTeach([]int{class}); err != nil {
		return ex, 0, 0, err
	}
	mode, err := preprocess.ParseMode(w.eng.Resize)
	if err != nil {
		return ex, 0, 0, err
	}
	n := w.eng.InputSize
	t0 := ms()
	rgb, _, err := preprocess.Image(img, mode, n)
	if err != nil {
		return ex, 0, 0, err
	}
	t1 := ms()
	ex.Class = class
	for i, in := range [][]uint8{rgb, teach.Mirror(rgb, n, n)} {
		var f *model.QMap
		if banded {
			w.startRequest()
			f, err = w.eng.Features(in)
		} else {
			f, err = w.eng.Int8.Features(in, n, n)
		}
		if err != nil {
			return ex, 0, 0, err
		}
		if i == 0 {
			ex.Image = teach.Pool(f)
		} else {
			ex.Flip = teach.Pool(f)
		}
	}
	return ex, t1 - t0, ms() - t1, nil
}

// pooler computes teaching examples of whole images elsewhere: a band
// worker with its own copy of the model (js/wasm).
type pooler interface {
	// pool starts computing the example of an encoded image (its class
	// unset); wait gives it, or an error, by due at the latest.
	pool(img []byte, due time.Time) (wait func() (teach.Example, error))
}

// featuresMany is features for several images at once, imgs[i] of class
// classes[i]: whole images (both passes, no bands) here and on the
// poolers side by side (image i here when i % (len(poolers)+1) is 0, else
// on poolers[i%(len(poolers)+1)-1]), the examples kept in the images'
// order, byte for byte what features gives one at a time. An image that
// fails on a pooler (or one that fails, hangs or answers wrongly) is
// computed here again, so a bad image gets the error it would get here.
// The reply says why each image not kept was not (Errors).
func (w *worker) featuresMany(imgs [][]byte, classes []int, reset bool, poolers []pooler, ms func() float64) (*protocol.FeaturesReply, error) {
	if len(imgs) != len(classes) || len(imgs) == 0 {
		return nil, fmt.Errorf("features: %d images for %d classes", len(imgs), len(classes))
	}
	if err := w.canTeach(classes); err != nil {
		return nil, err
	}
	if reset {
		w.examples = nil
	}
	k := len(poolers) + 1
	rounds := (len(imgs) + k - 1) / k
	due := time.Now().Add(time.Duration(rounds) * protocol.HelperDeadline(w.eng.Config.MACs(w.eng.InputSize, w.eng.InputSize), w.warmupMs))
	waits := make([]func() (teach.Example, error), len(imgs))
	for i := range imgs {
		if j := i % k; j > 0 {
			waits[i] = poolers[j-1].pool(imgs[i], due)
		}
	}
	rep := &protocol.FeaturesReply{Header: protocol.Header{Type: protocol.KindFeatures}, Errors: make([]string, len(imgs))}
	exs := make([]teach.Example, len(imgs))
	here := func(i int) {
		ex, prep, pass, err := w.example(imgs[i], classes[i], false, ms)
		rep.PrepMs += prep
		rep.PassMs += pass
		if err != nil {
			rep.Errors[i] = err.Error()
		}
		exs[i] = ex
	}
	for i := range imgs {
		if waits[i] == nil {
			here(i)
		}
	}
	h, wd := w.eng.Config.MapSize(w.eng.InputSize, w.eng.InputSize)
	c := w.eng.Int8.FC.In
	for i, wait := range waits {
		if wait == nil {
			continue
		}
		ex, err := wait()
		if err != nil || len(ex.Image.Sum) != c || len(ex.Flip.Sum) != c || ex.Image.Cells != h*wd || ex.Flip.Cells != h*wd {
			here(i)
			continue
		}
		ex.Class = classes[i]
		exs[i] = ex
		rep.Helped++
	}
	for i, ex := range exs {
		if rep.Errors[i] == "" {
			w.examples = append(w.examples, ex)
		}
	}
	rep.Examples = len(w.examples)
	return rep, nil
}

// teachModel teaches the model in use the classes of the examples kept:
// the held-out accuracy (req.Folds folds, 0: the default, -1: none) and the new model file,
// the bytes 'bagnet teach -name NAME' writes for the same images with its
// default options. The examples stay, so a failed request can be retried.
func (w *worker) teachModel(req *protocol.TeachRequest, ms func() float64) (*protocol.TeachReply, []byte, error) {
	if w.eng == nil {
		return nil, nil, errNoModel
	}
	if len(w.examples) == 0 {
		return nil, nil, errors.New("no examples: send the images first (features)")
	}
	folds := req.Folds
	switch {
	case folds == 0:
		folds = teach.DefaultFolds
	case folds == -1:
		folds = 0
	case folds < 0 || folds == 1 || folds > 100:
		return nil, nil, fmt.Errorf("folds %d: want 0 (the default, %d), -1 (no held-out accuracy) or 2 to 100", req.Folds, teach.DefaultFolds)
	}
	classes := make([]weights.Class, len(req.Classes))
	for i, c := range req.Classes {
		classes[i] = weights.Class{ID: c.ID, Name: c.Name}
	}
	t0 := ms()
	rep := &protocol.TeachReply{Header: protocol.Header{Type: protocol.KindTeach}}
	opt := teach.Options{}.ForBackbone(w.eng.Model) // bagnet teach's defaults
	if folds >= 2 && moreThanOne(w.examples) {
		r, err := teach.CrossValidate(w.examples, len(classes), folds, opt)
		if err != nil {
			return nil, nil, fmt.Errorf("held-out accuracy: %v", strings.TrimPrefix(err.Error(), "teach: "))
		}
		rep.Folds, rep.Images, rep.Correct = r.Folds, r.Images, r.Correct
		for _, s := range r.PerClass {
			rep.PerClass = append(rep.PerClass, protocol.TeachScore{Images: s.Images, Correct: s.Correct})
		}
	}
	file, err := teach.Teach(w.eng.Model, w.examples, classes, req.Name, opt)
	if err != nil {
		return nil, nil, fmt.Errorf("teaching: %v", strings.TrimPrefix(err.Error(), "teach: "))
	}
	rep.Ms = ms() - t0
	return rep, file, nil
}

// moreThanOne reports whether some class has at least 2 examples (k-fold
// cross-validation needs that, as 'bagnet teach' checks).
func moreThanOne(ex []teach.Example) bool {
	n := map[int]int{}
	for _, e := range ex {
		n[e.Class]++
		if n[e.Class] > 1 {
			return true
		}
	}
	return false
}
