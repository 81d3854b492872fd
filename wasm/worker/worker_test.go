package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bagnetweb/bagnet/engine"
	"github.com/bagnetweb/bagnet/internal/testmodel"
	"github.com/bagnetweb/bagnet/protocol"
	"github.com/bagnetweb/bagnet/scramble"
)

var (
	engOnce sync.Once
	engVal  *engine.Engine
	engSize int
	engErr  error
)

// testEngine is a random bagnet33 at 64 pixels (a 4x4 evidence map).
func testEngine(t *testing.T) (*engine.Engine, int) {
	t.Helper()
	engOnce.Do(func() {
		b, err := testmodel.Int8(testmodel.Options{InputSize: 64, Width: 0.125, Seed: 1})
		if err != nil {
			engErr = err
			return
		}
		engSize = len(b)
		engVal, engErr = engine.Load(b)
	})
	if engErr != nil {
		t.Fatal(engErr)
	}
	return engVal, engSize
}

func pngBytes(t *testing.T, w, h int, seed int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.NRGBA{uint8(x*7 + seed), uint8(y*5 ^ seed), uint8((x * y) >> 3), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func clock() func() float64 {
	var t float64
	return func() float64 { t++; return t }
}

func TestInfo(t *testing.T) {
	e, size := testEngine(t)
	info := newInfo(e, size)
	if info.Patch != 33 || info.Stride != 8 || info.InputSize != 64 || info.Arch != "bagnet33" {
		t.Errorf("info %+v: want bagnet33, patch 33, stride 8, input 64", info)
	}
	// (64-3)/2+1 = 31 after stage 1 ... a 64-pixel input gives a 4x4 map.
	if info.MapH != 4 || info.MapW != 4 {
		t.Errorf("map %dx%d, want 4x4", info.MapH, info.MapW)
	}
	if len(info.Classes) != 10 || info.Classes[0].Name != "tench" || info.WeightsBytes != size || info.MACs <= 0 {
		t.Errorf("info %+v", info)
	}
	// The page reads these exact keys.
	b, _ := json.Marshal(info)
	var m map[string]any
	json.Unmarshal(b, &m)
	for _, k := range []string{"name", "arch", "width", "classes", "inputSize", "resize", "dtype", "patch",
		"stride", "mapH", "mapW", "macs", "weightsBytes"} {
		if _, ok := m[k]; !ok {
			t.Errorf("info JSON lacks %q: %s", k, b)
		}
	}
}

func TestClassifySendsConsistentEvidence(t *testing.T) {
	s, a, m := classifiedSample(t, 5)
	if len(m.Result.Top) != 5 || len(m.Result.Logits) != 10 || m.Result.Map != (protocol.MapSize{H: 4, W: 4}) {
		t.Fatalf("result %+v", m.Result)
	}
	if len(m.Classes) != 10 {
		t.Fatalf("sent maps of %v, want all 10 classes", m.Classes)
	}
	// Each map is the decision: mean + bias reproduces the logit.
	for _, c := range m.Classes {
		ev := m.Maps[c]
		if len(ev) != 16 {
			t.Fatalf("class %d map has %d cells, want 16", c, len(ev))
		}
		var sum float64
		for _, v := range ev {
			sum += float64(v)
		}
		got := sum/float64(len(ev)) + float64(m.Bias[c])
		if want := float64(m.Result.Logits[c]); math.Abs(got-want) > 1e-4*math.Max(1, math.Abs(want)) {
			t.Errorf("class %d: mean evidence + bias = %v, logit %v", c, got, want)
		}
	}
	if m.Transform.SrcW != 90 || m.Transform.SrcH != 70 || m.Transform.Size != 64 || m.Transform.Mode != "squash" {
		t.Errorf("transform %+v", m.Transform)
	}
	if m.Timings.EvidenceMs <= 0 {
		t.Errorf("evidence time %v not measured", m.Timings.EvidenceMs)
	}
	// The JSON part carries the CLI's result shape.
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"result":{"model":`, `"top":[{"index":`, `"logits":[`, `"map":{"h":4,"w":4}`, `"bias":{"0":`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("meta JSON lacks %s: %.300s", k, b)
		}
	}
	// Follow-up evidence requests are served from the stored analysis.
	ev, bias, err := s.evidence(1, 7)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := a.Evidence(7)
	if !slices.Equal(ev, want) || bias != s.eng.Bias(7) {
		t.Errorf("evidence(1, 7) differs from the analysis")
	}
	if _, _, err := s.evidence(1, 10); err == nil {
		t.Error("evidence for class 10 of 10: no error")
	}
	if _, _, err := s.evidence(2, 0); err == nil {
		t.Error("evidence for an unknown id: no error")
	}
}

func TestClassifyErrors(t *testing.T) {
	var empty worker
	if _, _, err := empty.classify(1, pngBytes(t, 8, 8, 0), 5, clock()); !errors.Is(err, errNoModel) {
		t.Errorf("no model: err = %v, want errNoModel", err)
	}
	e, _ := testEngine(t)
	s := worker{eng: e}
	for _, b := range [][]byte{nil, []byte("hello, not an image"), pngBytes(t, 40, 40, 1)[:60]} {
		if _, _, err := s.classify(1, b, 5, clock()); err == nil {
			t.Errorf("classify(%q...): no error", b[:min(len(b), 10)])
		}
	}
}

func TestScramble(t *testing.T) {
	e, _ := testEngine(t)
	s := worker{eng: e}
	// A 64-pixel input cannot hold 2x2 tiles of 33 pixels: scrambling is refused.
	if _, _, err := s.classify(1, pngBytes(t, 64, 64, 5), 3, clock()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.scramble(2, 1, 42, 3, clock()); err == nil {
		t.Error("scramble of a 64-pixel input: no error")
	}

	b, err := testmodel.Int8(testmodel.Options{InputSize: 96, Width: 0.125, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	e96, _ := engine.Load(b)
	s = worker{eng: e96}
	orig, _, err := s.classify(1, pngBytes(t, 120, 100, 9), 3, clock())
	if err != nil {
		t.Fatal(err)
	}
	a, m, err := s.scramble(2, 1, 42, 3, clock())
	if err != nil {
		t.Fatal(err)
	}
	tl, _ := scramble.NewTiling(96, 33)
	want, _ := tl.Apply(orig.Input, tl.Permutation(42))
	if !slices.Equal(a.Input, want) || slices.Equal(a.Input, orig.Input) {
		t.Error("scrambled input is not the original's tiles shuffled with seed 42")
	}
	if m.Scramble == nil || m.Scramble.Of != 1 || m.Scramble.Seed != 42 || m.Scramble.Tiling != tl {
		t.Errorf("scramble record %+v", m.Scramble)
	}
	ref, err := e96.ClassifyRGB(want, orig.Transform, 3)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ref.Logits, m.Result.Logits) {
		t.Error("scrambled logits differ from classifying the scrambled input directly")
	}
	if _, _, err := s.scramble(3, 99, 1, 3, clock()); err == nil {
		t.Error("scramble of an unknown id: no error")
	}
}

func TestEvidenceClasses(t *testing.T) {
	top := []protocol.Prediction{{Index: 412}, {Index: 3}, {Index: 999}}
	if got := evidenceClasses(1000, top); !slices.Equal(got, []int{412, 3, 999}) {
		t.Errorf("1000 classes: %v, want the top-K", got)
	}
	if got := evidenceClasses(4, top[:1]); !slices.Equal(got, []int{0, 1, 2, 3}) {
		t.Errorf("4 classes: %v, want all", got)
	}
}

func TestStoreKeepsLatest(t *testing.T) {
	var s store
	for id := 1; id <= keep+3; id++ {
		s.put(id, &engine.Analysis{})
	}
	for id := 1; id <= keep+3; id++ {
		_, err := s.get(id)
		if (err == nil) != (id > 3) {
			t.Errorf("get(%d) = %v after %d puts", id, err, keep+3)
		}
	}
	s.put(5, &engine.Analysis{}) // replacing keeps one entry
	if len(s.ids) != keep {
		t.Errorf("%d ids kept, want %d", len(s.ids), keep)
	}
}

func TestOcclude(t *testing.T) {
	s, orig, _ := classifiedSample(t, 3)
	a, m, err := s.occlude(2, 1, [4]int{10, 12, 30, 20}, 3, clock())
	if err != nil {
		t.Fatal(err)
	}
	o := m.Occlusion
	if o == nil || o.Of != 1 || o.Rect != [4]int{10, 12, 30, 20} || o.Cells != 16 || o.Recomputed != (o.Rows[1]-o.Rows[0])*(o.Cols[1]-o.Cols[0]) {
		t.Fatalf("occlusion %+v", o)
	}
	full, err := s.eng.ClassifyRGB(a.Input, orig.Transform, 3)
	if err != nil || !slices.Equal(full.Logits, m.Result.Logits) {
		t.Errorf("occluded logits %v, a full pass %v (%v)", m.Result.Logits, full.Logits, err)
	}
	if len(m.Classes) != 10 {
		t.Errorf("sent maps of %v", m.Classes)
	}
	// The occluded analysis is remembered: edits stack.
	if _, _, err := s.occlude(3, 2, [4]int{40, 40, 60, 60}, 3, clock()); err != nil {
		t.Error(err)
	}
	if _, _, err := s.occlude(4, 99, [4]int{0, 0, 1, 1}, 3, clock()); err == nil {
		t.Error("occluding an unknown analysis gave no error")
	}
}

// The benchmark times the runs it says, records this worker's GEMMs (their
// MACs add up to the model's) and times an occlusion of a patch-sized square
// at the centre, which recomputes the cells that see it.
func TestBench(t *testing.T) {
	e, _ := testEngine(t)
	s := worker{eng: e, kernels: e.Int8.Kernels()}
	b, err := s.bench(3, clock())
	if err != nil {
		t.Fatal(err)
	}
	if len(b.RunsMs) != 3 || len(b.OccludeMs) != 3 || b.Size != 64 {
		t.Fatalf("bench %+v", b)
	}
	var macs int64
	for _, g := range b.GEMMs {
		macs += int64(g.M) * int64(g.N) * int64(g.K)
	}
	if macs == 0 || macs > b.MACs {
		t.Errorf("GEMMs add up to %d MACs, the model has %d", macs, b.MACs)
	}
	if b.TimedMs != 1 { // one tick of the test clock: read just before and after the timed run
		t.Errorf("the timed run's time is %v ticks, want 1", b.TimedMs)
	}
	o := b.Occlusion
	q := e.Config.Patch()
	r := [4]int{(64 - q) / 2, (64 - q) / 2, (64 + q) / 2, (64 + q) / 2}
	see := 0 // cells whose receptive fields meet the square
	for i := 0; i < 4; i++ {
		for j := 0; j < 4; j++ {
			bx := e.Config.CellBox(i, j)
			if bx.X0 < r[2] && bx.X1 > r[0] && bx.Y0 < r[3] && bx.Y1 > r[1] {
				see++
			}
		}
	}
	if o == nil || o.Rect != r || o.Recomputed != see || o.Cells != 16 || o.Workers != 1 {
		t.Errorf("bench occlusion %+v, want rect %v and %d cells recomputed on 1 worker", o, r, see)
	}
}

// Waiting on k helpers one after another (as engine.int8Block does), each
// by the request's one deadline, costs one deadline however many hang; an
// answer already there is taken even after the deadline.
func TestAwaitByOneDeadline(t *testing.T) {
	const d = 300 * time.Millisecond
	for _, k := range []int{3, 6} {
		chans := make([]chan int, k+1)
		for i := range chans {
			chans[i] = make(chan int, 1)
		}
		chans[k] <- 42 // the last helper answered; the others hang
		t0 := time.Now()
		due := t0.Add(d)
		var got []int
		for _, ch := range chans {
			if v, ok := awaitBy(ch, due); ok {
				got = append(got, v)
			}
		}
		el := time.Since(t0)
		if !slices.Equal(got, []int{42}) {
			t.Errorf("k=%d: answers %v, want [42]", k, got)
		}
		// Up to 2d (a loaded machine's scheduling delays); waiting one
		// deadline per helper would take k·d, at least 3d for k >= 3.
		if el < d || el >= 2*d {
			t.Errorf("k=%d hung helpers took %v, want one deadline (%v), not %v", k, el, d, time.Duration(k)*d)
		}
	}
	// An answer that arrives before the deadline ends the wait at once.
	ch := make(chan int)
	go func() { time.Sleep(20 * time.Millisecond); ch <- 7 }()
	t0 := time.Now()
	if v, ok := awaitBy(ch, t0.Add(time.Minute)); !ok || v != 7 || time.Since(t0) > 10*time.Second {
		t.Errorf("awaitBy = %d, %v after %v", v, ok, time.Since(t0))
	}
}

func TestDeadlinesScaleWithTheModel(t *testing.T) {
	e, _ := testEngine(t)
	macs := e.Config.MACs(e.InputSize, e.InputSize)
	small := protocol.HelperDeadline(macs, 0)
	big := protocol.HelperDeadline(macs*50, 0)
	if !(small >= protocol.HelperFloor && big > small) {
		t.Errorf("helper deadlines: %v for %d MACs, %v for 50x more", small, macs, big)
	}
	// Measured: a 1 s warm-up pass (the full-size BagNet-33 here).
	if got, want := protocol.HelperDeadline(macs, 1000), protocol.HelperFloor+protocol.HelperPasses*time.Second; got != want {
		t.Errorf("HelperDeadline(_, 1000 ms) = %v, want %v", got, want)
	}
	page := protocol.RequestDeadline(&protocol.Info{MACs: macs, WarmupMs: 1000})
	if page <= protocol.HelperDeadline(macs, 1000)+2*time.Second {
		t.Errorf("the page's deadline %v leaves no room after a hung helper's %v and a band recomputed", page, protocol.HelperDeadline(macs, 1000))
	}
}

// The warm-up passes run the model (the whole network; a band worker's
// smallest band) and say when they cannot.
func TestWarmUp(t *testing.T) {
	var empty worker
	if _, err := empty.warmUp(); !errors.Is(err, errNoModel) {
		t.Errorf("no model: err = %v, want errNoModel", err)
	}
	e, _ := testEngine(t)
	s := worker{eng: e}
	if ms, err := s.warmUp(); err != nil || ms <= 0 {
		t.Errorf("warmUp = %v ms, %v", ms, err)
	}
	if err := bandWarmUp(e); err != nil {
		t.Errorf("bandWarmUp: %v", err)
	}
}

// classifiedSample is a worker on the test engine that has classified a
// 90x70 test PNG as request 1 (its topK best classes), failing t on error.
func classifiedSample(t *testing.T, topK int) (*worker, *engine.Analysis, *resultMsg) {
	t.Helper()
	e, _ := testEngine(t)
	s := &worker{eng: e}
	a, m, err := s.classify(1, pngBytes(t, 90, 70, 3), topK, clock())
	if err != nil {
		t.Fatal(err)
	}
	return s, a, m
}
