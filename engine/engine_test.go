package engine_test

import (
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/bagnetweb/bagnet/engine"
	"github.com/bagnetweb/bagnet/geom"
	"github.com/bagnetweb/bagnet/internal/testfixture"
	"github.com/bagnetweb/bagnet/internal/testmodel"
	"github.com/bagnetweb/bagnet/weights"
)

const tench = "../../shared/data/samples/n01440764_tench.jpg"

func load(t *testing.T, opt testmodel.Options) *engine.Engine {
	t.Helper()
	return testfixture.Must(engine.Load(testfixture.Must(testmodel.Int8(opt))(t)))(t)
}

// shippedInt8 is the shipped model file.
const shippedInt8 = "../weights/shipped/bagnet33_imagenette_int8.safetensors"

// classify classifies img on e, failing the test on an error.
func classify(t testing.TB, e *engine.Engine, img []byte, topK int) *engine.Analysis {
	t.Helper()
	a, err := e.Classify(img, topK)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func sample(t *testing.T) []byte {
	b, err := os.ReadFile(tench)
	if err != nil {
		t.Skipf("sample image: %v", err)
	}
	return b
}

// eachArch runs f for BagNet-9, 17 and 33 at 160 px with the sample image
// and its classification (top 3) by an engine of opt alone.
func eachArch(t *testing.T, f func(arch string, opt testmodel.Options, img []byte, want *engine.Analysis)) {
	t.Helper()
	for _, arch := range []string{"bagnet9", "bagnet17", "bagnet33"} {
		opt := testmodel.Options{Arch: arch, InputSize: 160}
		img, want, _ := baseline(t, opt)
		f(arch, opt, img, want)
	}
}

// baseline is the sample image, its classification (top 3) by an engine of
// opt alone, and a second engine of opt for the test to set up.
func baseline(t *testing.T, opt testmodel.Options) ([]byte, *engine.Analysis, *engine.Engine) {
	t.Helper()
	img := sample(t)
	return img, classify(t, load(t, opt), img, 3), load(t, opt)
}

func TestClassifyResult(t *testing.T) {
	for _, resize := range []string{"squash", "crop"} {
		e := load(t, testmodel.Options{InputSize: 96, Resize: resize})
		a := classify(t, e, sample(t), 5)
		if len(a.Logits) != 10 || len(a.Top) != 5 {
			t.Fatalf("%d logits, %d top", len(a.Logits), len(a.Top))
		}
		if h, w := e.Config.MapSize(96, 96); a.Map.H != h || a.Map.W != w || h != 8 {
			t.Errorf("map %+v, want %dx%d", a.Map, h, w)
		}
		var psum float64
		for _, p := range engine.Softmax(a.Logits) {
			psum += float64(p)
		}
		if math.Abs(psum-1) > 1e-5 {
			t.Errorf("probabilities sum to %v", psum)
		}
		for i, p := range a.Top {
			if p.Logit != a.Logits[p.Index] || p.ID != e.Classes[p.Index].ID || p.Name != e.Classes[p.Index].Name {
				t.Errorf("top[%d] = %+v inconsistent", i, p)
			}
			if i > 0 && p.Logit > a.Top[i-1].Logit {
				t.Errorf("top not sorted: %v", a.Top)
			}
		}
		// The decision is the mean of the evidence: mean(map) + bias = logit, for every class.
		for c := range a.Logits {
			ev, err := a.Evidence(c)
			if err != nil {
				t.Fatal(err)
			}
			var s float64
			for _, v := range ev {
				s += float64(v)
			}
			got := s/float64(len(ev)) + float64(e.Bias(c))
			if math.Abs(got-float64(a.Logits[c])) > 1e-5*(1+math.Abs(got)) {
				t.Errorf("class %d: mean evidence + bias = %v, logit %v", c, got, a.Logits[c])
			}
		}
		if _, err := a.Evidence(10); err == nil {
			t.Error("evidence for class 10 of 10: no error")
		}
		// EvidenceAll: every class's map in one pass, bit for bit Evidence's.
		all, err := a.EvidenceAll()
		if err != nil || len(all) != len(a.Logits) {
			t.Fatalf("EvidenceAll: %d maps, %v", len(all), err)
		}
		for c := range a.Logits {
			ev, _ := a.Evidence(c)
			if !slices.Equal(all[c], ev) {
				t.Errorf("class %d: EvidenceAll's map differs from Evidence's", c)
			}
		}
		// Receptive fields: the tench photo is 500x375; cell (i, j) covers input
		// pixels [8j, 8j+33) x [8i, 8i+33), mapped back to the photo.
		in, src := a.CellBoxes(2, 3)
		if in.X0 != 24 || in.Y0 != 16 || in.X1 != 57 || in.Y1 != 49 {
			t.Errorf("input box %+v", in)
		}
		sx, sy := 500.0/96, 375.0/96 // squash
		ox, oy := 0.0, 0.0
		if resize == "crop" { // shorter side 375 -> 110 (96*256/224 rounded), 500 -> 147; centre crop 96
			sx, sy = 500.0/147, 375.0/110
			ox, oy = float64((147-96)/2)*sx, float64((110-96)/2)*sy
		}
		want := geom.Rect[float64]{X0: ox + 24*sx, Y0: oy + 16*sy, X1: ox + 57*sx, Y1: oy + 49*sy}
		if math.Abs(src.X0-want.X0) > 0.6 || math.Abs(src.Y0-want.Y0) > 0.6 || math.Abs(src.X1-want.X1) > 0.6 || math.Abs(src.Y1-want.Y1) > 0.6 {
			t.Errorf("%s: source box %+v, want about %+v", resize, src, want)
		}
	}
}

func TestFloatAndInt8Agree(t *testing.T) {
	opt := testmodel.Options{InputSize: 96, Seed: 4}
	n, meta, sd, err := testmodel.Float(opt)
	if err != nil || n == nil {
		t.Fatal(err)
	}
	ef := testfixture.Must(engine.Load(testfixture.Must(weights.EncodeStateDict(meta, sd))(t)))(t)
	eq := load(t, opt)
	img := sample(t)
	af := classify(t, ef, img, 3)
	aq := classify(t, eq, img, 3)
	if string(af.Input) != string(aq.Input) {
		t.Fatal("float and int8 engines preprocessed the image differently")
	}
	if c := testfixture.Cosine(af.Logits, aq.Logits); c < 0.98 {
		t.Errorf("float vs int8 logit cosine %.4f", c)
	}
}

func TestClassIndexAndErrors(t *testing.T) {
	e := load(t, testmodel.Options{})
	for _, tc := range []struct {
		in   string
		want int
	}{{"0", 0}, {"9", 9}, {"n03888257", 9}, {"Tench", 0}, {"english springer", 1}} {
		if got, err := e.ClassIndex(tc.in); err != nil || got != tc.want {
			t.Errorf("ClassIndex(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"10", "-1", "goldfish", ""} {
		if _, err := e.ClassIndex(bad); err == nil {
			t.Errorf("ClassIndex(%q): no error", bad)
		}
	}
	for _, img := range [][]byte{nil, []byte("not an image"), sample(t)[:200]} {
		if _, err := e.Classify(img, 5); err == nil {
			t.Errorf("Classify(%d bytes of junk): no error", len(img))
		}
	}
	if _, err := engine.Load([]byte("garbage")); err == nil || !strings.Contains(err.Error(), "safetensors") {
		t.Errorf("Load(garbage) = %v", err)
	}
}
