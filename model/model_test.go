package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bagnetweb/bagnet/internal/testfixture"
	"github.com/bagnetweb/bagnet/model/kernel"
	"github.com/bagnetweb/bagnet/model/kernel/kerneltest"
)

func randomRGB(h, w int, seed uint64) []uint8 { return RandomRGB(h, w, seed) }

var mean, std = [3]float32{0.485, 0.456, 0.406}, [3]float32{0.229, 0.224, 0.225}

func TestConfigSizes(t *testing.T) {
	// Numbers from the paper's reference models at 224x224, full width.
	for _, tc := range []struct {
		arch       string
		mapH       int
		patch      int
		gmac       float64
		mparams    float64
		checkParam bool
	}{
		{"bagnet33", 24, 33, 16.26, 18.31, true},
		{"bagnet17", 26, 17, 15.65, 0, false},
		{"bagnet9", 27, 9, 15.93, 0, false},
	} {
		c := Config{Arch: tc.arch, Width: 1, Classes: 1000}
		h, w := c.MapSize(224, 224)
		if h != tc.mapH || w != tc.mapH {
			t.Errorf("%s: map %dx%d, want %d", tc.arch, h, w, tc.mapH)
		}
		if c.Patch() != tc.patch {
			t.Errorf("%s: patch %d, want %d", tc.arch, c.Patch(), tc.patch)
		}
		if g := float64(c.MACs(224, 224)) / 1e9; math.Abs(g-tc.gmac) > 0.005 {
			t.Errorf("%s: %.3f GMAC, want %.2f", tc.arch, g, tc.gmac)
		}
		if p := float64(c.NumParams()) / 1e6; tc.checkParam && math.Abs(p-tc.mparams) > 0.005 {
			t.Errorf("%s: %.3f M params, want %.2f", tc.arch, p, tc.mparams)
		}
		// The last cell's box ends exactly at the input's bottom-right edge.
		b := c.CellBox(h-1, w-1)
		if want := 8*(h-1) + tc.patch; b.X1 != want || b.Y1 != want || b.X1 > 224 {
			t.Errorf("%s: last cell box %+v, want right/bottom edge %d <= 224", tc.arch, b, want)
		}
	}
}

func TestFastKernelsMatchReference(t *testing.T) {
	if err := kerneltest.U8I8(kernel.Fast{}); err != nil {
		t.Fatal(err)
	}
	if err := kerneltest.Requant(kernel.Fast{}); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, sz := range [][3]int{{1, 1, 1}, {2, 4, 3}, {7, 9, 27}, {33, 17, 64}, {64, 130, 576}} {
		m, n, k := sz[0], sz[1], sz[2]
		af, bf := make([]float32, m*k), make([]float32, n*k)
		for i := range af {
			af[i] = float32(r.NormFloat64())
		}
		for i := range bf {
			bf[i] = float32(r.NormFloat64())
		}
		cf1, cf2 := make([]float32, m*n), make([]float32, m*n)
		kernel.Reference{}.F32(m, n, k, af, bf, cf1)
		kernel.Fast{}.F32(m, n, k, af, bf, cf2)
		for i := range cf1 {
			if math.Abs(float64(cf1[i]-cf2[i])) > 1e-4*math.Sqrt(float64(k)) {
				t.Fatalf("%v: F32 [%d] fast %v ref %v", sz, i, cf2[i], cf1[i])
			}
		}
	}
}

func TestInt8MatchesFloat(t *testing.T) {
	for _, arch := range []string{"bagnet9", "bagnet17", "bagnet33"} {
		cfg := Config{Arch: arch, Width: 0.125, Classes: 10}
		n, err := NewNet(cfg, RandomStateDict(cfg, 7))
		if err != nil {
			t.Fatal(err)
		}
		const h, w = 64, 72
		var cal Calibrator
		n.Observe = cal.Observer()
		for s := uint64(0); s < 4; s++ {
			if _, _, err := n.Forward(NormalizedInput(randomRGB(h, w, s), h, w, mean, std)); err != nil {
				t.Fatal(err)
			}
		}
		n.Observe = nil
		q, err := Quantize(n, mean, std, cal.Scales())
		if err != nil {
			t.Fatal(err)
		}
		img := randomRGB(h, w, 99)
		lf, ff, err := n.Forward(NormalizedInput(img, h, w, mean, std))
		if err != nil {
			t.Fatal(err)
		}
		fq, err := q.Features(img, h, w)
		if err != nil {
			t.Fatal(err)
		}
		lq := q.Logits(fq)
		if fq.H != ff.H || fq.W != ff.W || fq.C != ff.C {
			t.Fatalf("%s: int8 map %dx%dx%d, float %dx%dx%d", arch, fq.H, fq.W, fq.C, ff.H, ff.W, ff.C)
		}
		if c := testfixture.Cosine(fq.Dequantize().Data, ff.Data); c < 0.99 {
			t.Errorf("%s: feature cosine %.5f", arch, c)
		}
		if c := testfixture.Cosine(lq, lf); c < 0.99 {
			t.Errorf("%s: logit cosine %.5f (int8 %v float %v)", arch, c, lq, lf)
		}
		// mean(evidence) + bias == logit, in both paths.
		for c := 0; c < cfg.Classes; c++ {
			for _, tc := range []struct {
				ev    []float32
				logit float32
				bias  float32
			}{{q.Evidence(fq, c), lq[c], q.FC.Bias[c]}, {n.Evidence(ff, c), lf[c], n.FC.Bias[c]}} {
				var s float64
				for _, v := range tc.ev {
					s += float64(v)
				}
				got := s/float64(len(tc.ev)) + float64(tc.bias)
				if math.Abs(got-float64(tc.logit)) > 1e-5*(1+math.Abs(float64(tc.logit))) {
					t.Errorf("%s class %d: mean evidence + bias = %v, logit %v", arch, c, got, tc.logit)
				}
			}
		}
	}
}
