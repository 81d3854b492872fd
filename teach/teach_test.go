package teach

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/bagnetweb/bagnet/internal/testfixture"

	"github.com/bagnetweb/bagnet/model"
	"github.com/bagnetweb/bagnet/weights"
	"github.com/bagnetweb/bagnet/weights/shipped"
)

func TestExp(t *testing.T) {
	if exp(0) != 1 {
		t.Fatalf("exp(0) = %v", exp(0))
	}
	for _, c := range []struct{ x, want float64 }{{-800, 0}, {800, math.Inf(1)}, {math.Inf(-1), 0}} {
		if got := exp(c.x); got != c.want {
			t.Errorf("exp(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	if !math.IsNaN(exp(math.NaN())) {
		t.Errorf("exp(NaN) is not NaN")
	}
	// Within 4 ulp of math.Exp over the range softmax uses, and more.
	worst := 0.0
	for i := 0; i <= 200000; i++ {
		x := -700 + 1400*float64(i)/200000
		got, want := exp(x), math.Exp(x)
		ulp := math.Nextafter(want, math.Inf(1)) - want
		if d := math.Abs(got-want) / ulp; d > worst {
			worst = d
		}
	}
	if worst > 4 {
		t.Fatalf("exp is %v ulp from math.Exp at worst", worst)
	}
}

func TestMirror(t *testing.T) {
	// 2 rows x 3 columns of RGB.
	in := []uint8{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18}
	want := []uint8{7, 8, 9, 4, 5, 6, 1, 2, 3, 16, 17, 18, 13, 14, 15, 10, 11, 12}
	if got := Mirror(in, 2, 3); string(got) != string(want) {
		t.Fatalf("Mirror = %v, want %v", got, want)
	}
}

// lcg is a small deterministic generator for test data.
type lcg uint32

func (r *lcg) next() uint32 { *r = *r*1664525 + 1013904223; return uint32(*r >> 8) }

// synthetic makes n examples per class of c features whose means differ by
// class (class k raises features k, k+classes, ...).
func synthetic(classes, n, c int) []Example {
	r := lcg(7)
	var ex []Example
	pool := func(class int) Pooled {
		p := Pooled{Sum: make([]int64, c), Cells: 16}
		for k := range p.Sum {
			v := int64(r.next() % 1000)
			if k%classes == class {
				v += 1500
			}
			p.Sum[k] = v
		}
		return p
	}
	for i := 0; i < n; i++ {
		for k := 0; k < classes; k++ {
			ex = append(ex, Example{Class: k, Image: pool(k), Flip: pool(k)})
		}
	}
	return ex
}

func TestTrainSeparates(t *testing.T) {
	for _, m := range []Method{LDA, LogReg} {
		t.Run(string(m), func(t *testing.T) { testTrainSeparates(t, Options{Method: m}) })
	}
}

func testTrainSeparates(t *testing.T, opt Options) {
	ex := synthetic(3, 8, 24)
	h, err := Train(ex, 3, opt)
	if err != nil {
		t.Fatal(err)
	}
	q := h.Quantize()
	for i, e := range ex {
		if p := Predict(&q, e.Image); p != e.Class {
			t.Errorf("training image %d of class %d classified as %d", i, e.Class, p)
		}
	}
	// The quantised bias makes the int8 head exact at the mean feature.
	center := Pooled{Sum: make([]int64, 24), Cells: 1}
	for k := range center.Sum {
		center.Sum[k] = int64(math.Round(h.Center[k]))
	}
	lg := Logits(&q, center)
	for c := range lg {
		var f float64
		for k, s := range center.Sum {
			f += h.Weight[c*24+k] * (float64(s) - h.Center[k])
		}
		f += h.Bias[c]
		if d := math.Abs(float64(lg[c]) - f); d > 0.05*(1+math.Abs(f)) {
			t.Errorf("class %d: int8 logit %v, float logit %v", c, lg[c], f)
		}
	}
	// Held-out: new examples from the same distribution.
	rep, err := CrossValidate(ex, 3, 4, opt)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Images != len(ex) || rep.Accuracy() < 0.9 {
		t.Fatalf("cross-validation: %d images, accuracy %v", rep.Images, rep.Accuracy())
	}
}

// TestLDA checks the discriminant against its definition, computed here
// directly in the map's units: with the class means μ_c, the mean m and
// the standard deviation sd_k of the training features (images and mirror
// images), the within-class covariance S and
// M = (1-a)·S + a·diag(S) + a·ridge·diag(sd²) (Σ of trainLDA brought back
// from standardised units), and the class means soft-thresholded toward
// their average μ̄ by t standard errors, μ'_ck = μ̄_k + sign(v)·max(|v| -
// t·sqrt(S_kk/n_c), 0) with v = μ_ck - μ̄_k and n_c the class's images
// (not counting mirror images), the weights solve M·w_c = μ'_c - m and the
// bias is -½·(μ'_c - m)ᵀw_c.
func TestLDA(t *testing.T) {
	const K, C = 3, 12
	zeroed, kept := 0, 0
	// A feature prior as a backbone's would be: the within-class
	// correlation of other images (Prior's own test checks its values).
	prior, err := Prior(synthetic(K, 7, C)[5*K:], K)
	if err != nil {
		t.Fatal(err)
	}
	type lcase struct {
		a, th float64
		prior []int8
		ps    float64
	}
	cases := []lcase{{0.3, -1, nil, 0}, {DefaultShrink, -1, nil, 0}, {1, -1, nil, 0}, {0.3, 0.5, nil, 0}, {DefaultShrink, 0, nil, 0}, {1, 5, nil, 0},
		{1, 0, prior, 0}, {0.5, -1, prior, 0.3}, {0.9, 0.5, prior, 1}}
	for _, lc := range cases {
		a, th := lc.a, lc.th
		if th == 0 {
			th = DefaultThreshold
			if lc.prior != nil {
				th = DefaultPriorThreshold
			}
		}
		ps := lc.ps
		if ps == 0 {
			ps = DefaultPriorShrink
		}
		ex := synthetic(K, 5, C)
		h, err := Train(ex, K, Options{Shrink: a, Threshold: lc.th, Prior: lc.prior, PriorShrink: lc.ps})
		if err != nil {
			t.Fatal(err)
		}
		var xs [][]float64
		var ys []int
		for _, e := range ex {
			for _, p := range []Pooled{e.Image, e.Flip} {
				x := make([]float64, C)
				for k := range x {
					x[k] = float64(p.Sum[k]) / float64(p.Cells)
				}
				xs, ys = append(xs, x), append(ys, e.Class)
			}
		}
		n := float64(len(xs))
		m, mu, cnt := make([]float64, C), make([][]float64, K), make([]float64, K)
		for c := range mu {
			mu[c] = make([]float64, C)
		}
		for i, x := range xs {
			cnt[ys[i]]++
			for k, v := range x {
				m[k] += v / n
				mu[ys[i]][k] += v
			}
		}
		for c := range mu {
			for k := range mu[c] {
				mu[c][k] /= cnt[c]
			}
		}
		M := make([][]float64, C)
		for p := range M {
			M[p] = make([]float64, C)
		}
		for i, x := range xs {
			for p := range C {
				for q := range C {
					M[p][q] += (x[p] - mu[ys[i]][p]) * (x[q] - mu[ys[i]][q]) / n
				}
			}
		}
		if th > 0 {
			for k := range C {
				var bar float64
				for c := range mu {
					bar += mu[c][k] / K
				}
				for c := range mu {
					se := math.Sqrt(M[k][k] / (cnt[c] / 2))
					v := mu[c][k] - bar
					switch {
					case math.Abs(v) <= th*se:
						v = 0
						zeroed++
					case v > 0:
						v -= th * se
						kept++
					default:
						v += th * se
						kept++
					}
					mu[c][k] = bar + v
				}
			}
		}
		dg := make([]float64, C) // the within-class variances
		for p := range C {
			dg[p] = M[p][p]
		}
		for p := range C {
			var v float64
			for _, x := range xs {
				v += (x[p] - m[p]) * (x[p] - m[p]) / n
			}
			for q := range C {
				if q != p {
					M[p][q] *= 1 - a
					if lc.prior != nil { // the prior's lower triangle holds (max, min)
						r := float64(lc.prior[max(p, q)*(max(p, q)+1)/2+min(p, q)]) / weights.PriorOne
						M[p][q] += a * (1 - ps) * r * math.Sqrt(dg[p]*dg[q])
					}
				}
			}
			M[p][p] += a * ridge * v
		}
		for c := 0; c < K; c++ {
			w := h.Weight[c*C : (c+1)*C]
			var norm, bias float64
			for p := range C {
				norm = max(norm, math.Abs(mu[c][p]-m[p]))
				bias += -0.5 * (mu[c][p] - m[p]) * w[p]
			}
			for p := range C {
				var got float64
				for q := range C {
					got += M[p][q] * w[q]
				}
				if want := mu[c][p] - m[p]; math.Abs(got-want) > 1e-9*norm {
					t.Fatalf("shrink %g, threshold %g, prior %v, class %d, row %d: M·w = %v, want μ_c - m = %v", a, th, lc.prior != nil, c, p, got, want)
				}
			}
			for k := range C {
				if math.Abs(h.Center[k]-m[k]) > 1e-9*math.Abs(m[k]) {
					t.Fatalf("center %d: %v, want the mean %v", k, h.Center[k], m[k])
				}
			}
			if math.Abs(h.Bias[c]-bias) > 1e-9*(1+math.Abs(bias)) {
				t.Fatalf("shrink %g, threshold %g, class %d: bias %v, want %v", a, th, c, h.Bias[c], bias)
			}
		}
	}
	if zeroed == 0 || kept == 0 {
		t.Fatalf("the thresholds zeroed %d class-mean deviations and kept %d: the test needs both", zeroed, kept)
	}
}

// TestPrior: the prior holds the within-class correlations, whatever the
// class means: a feature equal to another within each class up to a
// class's offset correlates 1 with it, one mirroring it -1, one constant
// within each class 0 (nothing to correlate), and the diagonal is 1.
func TestPrior(t *testing.T) {
	const K = 3
	r := lcg(11)
	var ex []Example
	pool := func(class int) Pooled {
		x := int64(r.next() % 1000)
		return Pooled{Cells: 4, Sum: []int64{x, x + 500*int64(class), 3000 - x, 700 * int64(class), int64(r.next() % 1000)}}
	}
	for i := 0; i < 20; i++ {
		for c := 0; c < K; c++ {
			ex = append(ex, Example{Class: c, Image: pool(c), Flip: pool(c)})
		}
	}
	p, err := Prior(ex, K)
	if err != nil {
		t.Fatal(err)
	}
	at := func(a, b int) int8 { return p[max(a, b)*(max(a, b)+1)/2+min(a, b)] }
	for _, c := range []struct {
		a, b int
		want int8
	}{{0, 0, 127}, {3, 3, 127}, {1, 0, 127}, {2, 0, -127}, {2, 1, -127}, {3, 0, 0}, {3, 2, 0}} {
		if got := at(c.a, c.b); got != c.want {
			t.Errorf("prior (%d,%d) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
	// Feature 4 is drawn independently: its correlations are small.
	for b := 0; b < 4; b++ {
		if v := at(4, b); v < -40 || v > 40 {
			t.Errorf("prior (4,%d) = %d: an independent feature should correlate weakly", b, v)
		}
	}
	if len(p) != weights.PriorLen(5) {
		t.Fatalf("%d entries, want %d", len(p), weights.PriorLen(5))
	}
}

// TestLDAAbsentClass: a class without training images (as in a
// cross-validation fold) is never predicted.
func TestLDAAbsentClass(t *testing.T) {
	var ex []Example
	for _, e := range synthetic(3, 6, 12) {
		if e.Class != 1 {
			ex = append(ex, e)
		}
	}
	h, err := Train(ex, 3, Options{})
	if err != nil {
		t.Fatal(err)
	}
	q := h.Quantize()
	for i, e := range synthetic(3, 6, 12) {
		if p := Predict(&q, e.Image); p == 1 {
			t.Fatalf("image %d (class %d) classified as the absent class", i, e.Class)
		}
	}
}

func TestFold(t *testing.T) {
	ex := []Example{{Class: 0}, {Class: 1}, {Class: 0}, {Class: 0}, {Class: 1}, {Class: 0}}
	got := Fold(ex, 2, 3)
	want := []int{0, 0, 1, 2, 1, 0}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Fold = %v, want %v", got, want)
		}
	}
}

func TestErrors(t *testing.T) {
	ex := synthetic(2, 2, 4)
	bad := append([]Example(nil), ex...)
	bad[1].Image.Sum = bad[1].Image.Sum[:3]
	out := append([]Example(nil), ex...)
	out[2].Class = 5
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"one class", func() error { _, err := Train(ex, 1, Options{}); return err }(), "need at least 2"},
		{"no images", func() error { _, err := Train(nil, 2, Options{}); return err }(), "no training images"},
		{"feature count", func() error { _, err := Train(bad, 2, Options{}); return err }(), "image 1 has 3 features"},
		{"class range", func() error { _, err := Train(out, 2, Options{}); return err }(), "image 2 has class 5"},
		{"steps", func() error { _, err := Train(ex, 2, Options{Steps: -1}); return err }(), "-1 steps"},
		{"l2", func() error { _, err := Train(ex, 2, Options{L2: math.NaN()}); return err }(), "L2 penalty NaN"},
		{"method", func() error { _, err := Train(ex, 2, Options{Method: "svm"}); return err }(), `unknown method "svm"`},
		{"shrink", func() error { _, err := Train(ex, 2, Options{Shrink: 1.5}); return err }(), "shrinkage 1.5"},
		{"shrink NaN", func() error { _, err := Train(ex, 2, Options{Shrink: math.NaN()}); return err }(), "shrinkage NaN"},
		{"threshold NaN", func() error { _, err := Train(ex, 2, Options{Threshold: math.NaN()}); return err }(), "threshold NaN"},
		{"threshold Inf", func() error { _, err := Train(ex, 2, Options{Threshold: math.Inf(1)}); return err }(), "threshold +Inf"},
		{"folds", func() error { _, err := CrossValidate(ex, 2, 1, Options{}); return err }(), "1 folds"},
		{"one image per class", func() error {
			_, err := CrossValidate(synthetic(2, 1, 4), 2, 5, Options{})
			return err
		}(), "at least 2 images in some class"},
		{"duplicate class", CheckClasses([]weights.Class{{ID: "a", Name: "x"}, {ID: "a", Name: "y"}}), `"a" appears twice`},
		{"empty name", CheckClasses([]weights.Class{{ID: "a", Name: "x"}, {ID: "b"}}), `"b" has an empty name`},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, c.err, c.want)
		}
	}
}

// backbone loads the shipped int8 model.
func backbone(t testing.TB) *weights.Model {
	m, err := weights.Load(shipped.Model())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// images makes n deterministic model inputs per class for 3 classes: a
// class colour, stripes of a class period, and noise.
func images(size, n int) (rgb [][]uint8, class []int) {
	r := lcg(11)
	colours := [3][3]int{{200, 60, 40}, {40, 180, 60}, {50, 70, 210}}
	for i := 0; i < n; i++ {
		for c := 0; c < 3; c++ {
			img := make([]uint8, size*size*3)
			for y := 0; y < size; y++ {
				for x := 0; x < size; x++ {
					stripe := ((x + y*c) / (4 + 3*c)) % 2
					for ch := 0; ch < 3; ch++ {
						v := colours[c][ch] + 50*stripe - 25 + int(r.next()%40) - 20
						img[(y*size+x)*3+ch] = uint8(max(0, min(255, v)))
					}
				}
			}
			rgb, class = append(rgb, img), append(class, c)
		}
	}
	return rgb, class
}

var testClasses = []weights.Class{{ID: "red", Name: "Red stripes"}, {ID: "green", Name: "Green"}, {ID: "blue", Name: "Blue"}}

// teachDigest teaches the shipped backbone 3 synthetic classes and returns
// the SHA-256 of the model file and of the cross-validation report.
func teachDigest(t testing.TB) (file, report string, m *weights.Model, b []byte) {
	m = backbone(t)
	n := m.InputSize
	rgb, class := images(n, 4)
	var ex []Example
	for i := range rgb {
		e, err := Extract(m.Int8, rgb[i], n, class[i])
		if err != nil {
			t.Fatal(err)
		}
		ex = append(ex, e)
	}
	b, err := Teach(m, ex, testClasses, "Stripes", Options{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := CrossValidate(ex, 3, 2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(rep)
	s1, s2 := sha256.Sum256(b), sha256.Sum256(js)
	return hex.EncodeToString(s1[:]), hex.EncodeToString(s2[:]), m, b
}

// TestTeachFile checks the taught file: it loads, keeps the backbone's
// tensors and settings, carries the new classes and name, and its head,
// run by the int8 engine on a feature map, gives exactly Logits.
func TestTeachFile(t *testing.T) {
	_, _, bb, b := teachDigest(t)
	m, err := weights.Load(b)
	if err != nil {
		t.Fatalf("the taught file does not load: %v", err)
	}
	if m.Name != "Stripes" || m.Config.Classes != 3 || len(m.Classes) != 3 || m.Classes[0] != testClasses[0] ||
		m.InputSize != bb.InputSize || m.Resize != bb.Resize || m.Mean != bb.Mean || m.Std != bb.Std || m.Info["backbone"] != bb.Name {
		t.Fatalf("taught meta %+v, backbone %+v", m.Meta, bb.Meta)
	}
	src, dst := bb.Int8.Tensors(), m.Int8.Tensors()
	for i := range src {
		if strings.HasPrefix(src[i].Name, model.HeadName+".") {
			continue
		}
		same := src[i].I8 != nil && string(i8bytes(*src[i].I8)) == string(i8bytes(*dst[i].I8)) ||
			src[i].F32 != nil && slicesEqual(*src[i].F32, *dst[i].F32)
		if !same {
			t.Fatalf("backbone tensor %s changed", src[i].Name)
		}
	}
	rgb, class := images(m.InputSize, 2)
	for i := range rgb {
		f, err := m.Int8.Features(rgb[i], m.InputSize, m.InputSize)
		if err != nil {
			t.Fatal(err)
		}
		want := m.Int8.Logits(f)
		got := Logits(&m.Int8.FC, Pool(f))
		if !slicesEqual(got, want) {
			t.Fatalf("image %d: Logits %v, the engine's %v", i, got, want)
		}
		if p := Predict(&m.Int8.FC, Pool(f)); p != class[i] {
			t.Errorf("image %d of class %d classified as %d by the taught model", i, class[i], p)
		}
	}
}

func i8bytes(v []int8) []byte {
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return b
}

func slicesEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func TestTeachRefuses(t *testing.T) {
	m := backbone(t)
	ex := synthetic(3, 2, 8)
	if _, err := Teach(m, ex, testClasses, "x", Options{}); err == nil || !strings.Contains(err.Error(), "8 features, the backbone 512") {
		t.Errorf("wrong feature count: %v", err)
	}
	one := ex[:2] // classes 0 and 1 only
	if _, err := Teach(m, one, testClasses, "x", Options{}); err == nil || !strings.Contains(err.Error(), `class "blue" has no images`) {
		t.Errorf("class without images: %v", err)
	}
	if _, err := Teach(m, ex, testClasses[:1], "x", Options{}); err == nil || !strings.Contains(err.Error(), "need at least 2") {
		t.Errorf("one class: %v", err)
	}
	f := *m
	f.Int8 = nil
	f.DType = weights.Float32
	if _, err := Teach(&f, ex, testClasses, "x", Options{}); err == nil || !strings.Contains(err.Error(), "needs an int8 model") {
		t.Errorf("float backbone: %v", err)
	}
}

// TestTeachDigest prints the digests; under js/wasm it is run by
// TestTeachBitIdenticalInWasm.
func TestTeachDigest(t *testing.T) {
	file, rep, _, _ := teachDigest(t)
	t.Logf("teach digest: %s %s", file, rep)
}

// The taught model file and the held-out report must be byte-identical
// natively and in js/wasm (what the page runs). This builds the package's
// tests for js/wasm and runs them under Node with go_js_wasm_exec.
func TestTeachBitIdenticalInWasm(t *testing.T) {
	m := testfixture.RunInWasm(t, "TestTeachDigest", `teach digest: ([0-9a-f]{64}) ([0-9a-f]{64})`)
	file, rep, _, _ := teachDigest(t)
	if m[1] != file || m[2] != rep {
		t.Fatalf("taught results differ: native file %s report %s, js/wasm file %s report %s", file, rep, m[1], m[2])
	}
	t.Logf("native and js/wasm agree: file %s, report %s", file, rep)
}

// BenchmarkTrain trains a head for 10 classes of 10 images (and their
// mirror images) with 512 features, the size of teaching the shipped
// model from 10 images per class, with each method.
func BenchmarkTrain(b *testing.B) {
	ex := synthetic(10, 10, 512)
	for _, m := range []Method{LDA, LogReg} {
		b.Run(string(m), func(b *testing.B) {
			for b.Loop() {
				if _, err := Train(ex, 10, Options{Method: m}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
