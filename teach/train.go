package teach

import (
	"fmt"
	"math"

	"github.com/bagnetweb/bagnet/model"
	"github.com/bagnetweb/bagnet/weights"
)

// Options are the training settings; the zero value means the defaults.
// They are part of what decides the model file's bytes.
type Options struct {
	// Method is the training method ("": DefaultMethod).
	Method Method
	// Shrink is LDA's shrinkage of the within-class covariance toward its
	// diagonal, in (0, 1] (0: DefaultShrink).
	Shrink float64
	// Threshold is LDA's soft threshold on the class means (see
	// trainLDA), in standard errors of a class mean (0: DefaultThreshold;
	// negative: none, the plain class means).
	Threshold float64
	// L2 is LogReg's penalty (L2/2)·|W|² on the weights of the
	// standardised features (0: DefaultL2; negative: none).
	L2 float64
	// Steps is LogReg's number of full-batch gradient steps (0:
	// DefaultSteps).
	Steps int
	// NoMirror trains on the images only, without their mirror images.
	NoMirror bool
	// Prior is the backbone's feature prior (weights.Model.Prior; see
	// ForBackbone), used by LDA: nil, none.
	Prior []int8
	// PriorShrink is LDA's shrinkage of the prior correlation toward the
	// identity, in (0, 1] (0: DefaultPriorShrink).
	PriorShrink float64
	// NoPrior makes ForBackbone leave Prior nil: teach as if the backbone
	// had no prior.
	NoPrior bool
}

// ForBackbone is o with the backbone's feature prior, unless o.NoPrior or
// o has a prior already. Teach applies it; a caller that also calls
// CrossValidate or Train applies it first, so that the held-out accuracy
// is that of the same method.
func (o Options) ForBackbone(m *weights.Model) Options {
	if !o.NoPrior && o.Prior == nil {
		o.Prior = m.Prior
	}
	return o
}

// Method is a way of fitting the head.
type Method string

// The methods.
const (
	// LDA is a shrinkage linear discriminant: class means and a pooled
	// within-class covariance shrunk toward its diagonal (Options.Shrink),
	// solved exactly (Cholesky). From 10 images per class it classifies
	// 2 to 3 points more of Imagenette's validation images than LogReg
	// (docs/teach.md) and it trains in one pass over the data.
	// With a prior (Options.Prior) the covariance is instead the prior's
	// correlation, shrunk toward the identity (Options.PriorShrink), scaled
	// by the taught images' own variances: from 10 images per class that
	// classifies another 2.5 points of Imagenette's validation images.
	LDA Method = "lda"
	// LogReg is multinomial logistic regression with an L2 penalty
	// (Options.L2), fitted by a fixed number of full-batch Nesterov
	// gradient steps (Options.Steps).
	LogReg Method = "logreg"
)

// Defaults.
const (
	DefaultMethod = LDA
	// DefaultShrink is LDA's shrinkage toward the covariance's diagonal
	// without a prior; with one, the default is 1: the taught images'
	// covariances are not used, only their variances.
	DefaultShrink = 0.85
	// DefaultThreshold is LDA's soft threshold on the class means without
	// a prior; DefaultPriorThreshold with one.
	DefaultThreshold      = 1.25
	DefaultPriorThreshold = 0.75
	// DefaultPriorShrink is LDA's shrinkage of the prior correlation
	// toward the identity.
	DefaultPriorShrink = 0.6
	DefaultL2          = 1e-2
	DefaultSteps       = 300
	// MaxSteps bounds Options.Steps.
	MaxSteps = 100000
)

func (o Options) method() Method {
	if o.Method == "" {
		return DefaultMethod
	}
	return o.Method
}

func (o Options) shrink() float64 {
	switch {
	case o.Shrink != 0:
		return o.Shrink
	case o.Prior != nil:
		return 1
	}
	return DefaultShrink
}

func (o Options) threshold() float64 {
	if o.Prior != nil {
		return orNone(o.Threshold, DefaultPriorThreshold)
	}
	return orNone(o.Threshold, DefaultThreshold)
}

func (o Options) priorShrink() float64 {
	if o.PriorShrink == 0 {
		return DefaultPriorShrink
	}
	return o.PriorShrink
}

func (o Options) l2() float64 { return orNone(o.L2, DefaultL2) }

// orNone is an option's value v: 0 means the default def, a negative value
// none (0).
func orNone(v, def float64) float64 {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

func (o Options) steps() int {
	if o.Steps == 0 {
		return DefaultSteps
	}
	return o.Steps
}

// check validates the options.
func (o Options) check() error {
	if m := o.method(); m != LDA && m != LogReg {
		return fmt.Errorf("teach: unknown method %q (want %q or %q)", o.Method, LDA, LogReg)
	}
	if !(o.Shrink >= 0 && o.Shrink <= 1) {
		return fmt.Errorf("teach: shrinkage %v: want a number in (0, 1] (0: the default %g)", o.Shrink, float64(DefaultShrink))
	}
	if math.IsNaN(o.Threshold) || math.IsInf(o.Threshold, 0) || o.Threshold > 100 {
		return fmt.Errorf("teach: threshold %v: want a finite number up to 100 (0: the default %g; negative: none)", o.Threshold, float64(DefaultThreshold))
	}
	if math.IsNaN(o.L2) || math.IsInf(o.L2, 0) || o.L2 > 1e6 {
		return fmt.Errorf("teach: L2 penalty %v: want a finite number up to 1e6", o.L2)
	}
	if !(o.PriorShrink >= 0 && o.PriorShrink <= 1) {
		return fmt.Errorf("teach: prior shrinkage %v: want a number in (0, 1] (0: the default %g)", o.PriorShrink, float64(DefaultPriorShrink))
	}
	if o.Steps < 0 || o.Steps > MaxSteps {
		return fmt.Errorf("teach: %d steps: want 1 to %d (0: the default %d)", o.Steps, MaxSteps, DefaultSteps)
	}
	return nil
}

// Head is a trained float head on the pooled features, in the units of the
// int8 map: logit[c] = Σ_k Weight[c][k]·(x[k] - Center[k]) + Bias[c], where
// x[k] = Sum[k]/Cells is the image's mean feature.
type Head struct {
	Classes, Features int
	Weight            []float64 // [Classes][Features]
	Center            []float64 // [Features]: the training features' mean
	Bias              []float64 // [Classes]: the logits at Center
}

// data is the training matrix: the standardised features of every sample.
type data struct {
	n, c   int
	z      []float64 // [n][c]: (x - mean) * inv
	y      []int
	mean   []float64
	inv    []float64 // 1/standard deviation; 0 for a constant feature
	labels int
}

// mean is a Pooled's mean feature, exactly rounded.
func (p Pooled) mean(k int) float64 { return float64(p.Sum[k]) / float64(p.Cells) }

// checkExamples validates the examples against the number of classes and
// returns the feature count.
func checkExamples(ex []Example, classes int) (int, error) {
	if classes < 2 {
		return 0, fmt.Errorf("teach: %d classes: need at least 2", classes)
	}
	if len(ex) == 0 {
		return 0, fmt.Errorf("teach: no training images")
	}
	c := len(ex[0].Image.Sum)
	if c == 0 {
		return 0, fmt.Errorf("teach: image 0 has no features")
	}
	for i, e := range ex {
		if e.Class < 0 || e.Class >= classes {
			return 0, fmt.Errorf("teach: image %d has class %d, want 0 to %d", i, e.Class, classes-1)
		}
		for _, p := range []Pooled{e.Image, e.Flip} {
			if len(p.Sum) != c || p.Cells <= 0 {
				return 0, fmt.Errorf("teach: image %d has %d features over %d cells, want %d features over at least 1", i, len(p.Sum), p.Cells, c)
			}
		}
	}
	return c, nil
}

func newData(ex []Example, classes int, mirror bool) *data {
	c := len(ex[0].Image.Sum)
	d := &data{c: c, labels: classes}
	var rows []Pooled
	for _, e := range ex {
		rows = append(rows, e.Image)
		d.y = append(d.y, e.Class)
		if mirror {
			rows = append(rows, e.Flip)
			d.y = append(d.y, e.Class)
		}
	}
	d.n = len(rows)
	n := float64(d.n)
	d.mean, d.inv = make([]float64, c), make([]float64, c)
	d.z = make([]float64, d.n*c)
	for i, p := range rows {
		for k := 0; k < c; k++ {
			d.z[i*c+k] = p.mean(k)
		}
	}
	for k := 0; k < c; k++ {
		var s float64
		for i := 0; i < d.n; i++ {
			s += d.z[i*c+k]
		}
		m := s / n
		var v float64
		for i := 0; i < d.n; i++ {
			dv := d.z[i*c+k] - m
			v += float64(dv * dv)
		}
		sd := math.Sqrt(v / n) // IEEE sqrt: exactly rounded everywhere
		d.mean[k] = m
		if sd > 1e-9 {
			d.inv[k] = 1 / sd
		}
		for i := 0; i < d.n; i++ {
			d.z[i*c+k] = float64((d.z[i*c+k] - m) * d.inv[k])
		}
	}
	return d
}

// topEigen estimates the largest eigenvalue of ZᵀZ/n by a fixed number of
// power iterations from a fixed start.
func (d *data) topEigen() float64 {
	v := make([]float64, d.c)
	seed := uint32(1)
	for k := range v {
		seed = seed*1664525 + 1013904223
		v[k] = 1 + float64(seed>>8)/(1<<24)
	}
	zv := make([]float64, d.n)
	var lambda float64
	for it := 0; it < 40; it++ {
		for i := 0; i < d.n; i++ {
			row := d.z[i*d.c : (i+1)*d.c]
			var s float64
			for k, x := range row {
				s += float64(x * v[k])
			}
			zv[i] = s
		}
		w := make([]float64, d.c)
		for i := 0; i < d.n; i++ {
			row := d.z[i*d.c : (i+1)*d.c]
			for k, x := range row {
				w[k] += float64(x * zv[i])
			}
		}
		var top, vt float64
		for k := range w {
			w[k] /= float64(d.n)
			top = max(top, math.Abs(w[k]))
			vt = max(vt, math.Abs(v[k]))
		}
		if top == 0 {
			return 0
		}
		lambda = top / vt
		for k := range w {
			w[k] /= top
		}
		v = w
	}
	return lambda
}

// gradient writes the gradient of the mean cross-entropy plus the penalty
// at (w, b) into (gw, gb).
func (d *data) gradient(w, b, gw, gb []float64, l2 float64, logits []float64) {
	K, C := d.labels, d.c
	clear(gw)
	clear(gb)
	for i := 0; i < d.n; i++ {
		row := d.z[i*C : (i+1)*C]
		top := math.Inf(-1)
		for j := 0; j < K; j++ {
			s := b[j]
			wj := w[j*C : (j+1)*C]
			for k, x := range row {
				s += float64(wj[k] * x)
			}
			logits[j] = s
			top = max(top, s)
		}
		var sum float64
		for j := 0; j < K; j++ {
			logits[j] = exp(logits[j] - top)
			sum += logits[j]
		}
		for j := 0; j < K; j++ {
			g := logits[j] / sum
			if j == d.y[i] {
				g -= 1
			}
			gb[j] += g
			gj := gw[j*C : (j+1)*C]
			for k, x := range row {
				gj[k] += float64(g * x)
			}
		}
	}
	n := float64(d.n)
	for j := range gb {
		gb[j] /= n
	}
	for k := range gw {
		gw[k] = gw[k]/n + float64(l2*w[k])
	}
}

// Train fits the head on the standardised pooled features of the examples
// (and of their mirror images) with opt.Method: a shrinkage linear
// discriminant (LDA, the default; see trainLDA) or multinomial logistic
// regression with the penalty L2 by Steps accelerated (Nesterov)
// full-batch gradient steps of size 1/L, L the gradient's Lipschitz bound
// from a power iteration (LogReg). Either way the head is linear in the
// mean feature, and every step is the same on every platform (see the
// package comment). A class without examples is allowed (it is never, or
// hardly ever, predicted).
func Train(ex []Example, classes int, opt Options) (*Head, error) {
	if err := opt.check(); err != nil {
		return nil, err
	}
	if _, err := checkExamples(ex, classes); err != nil {
		return nil, err
	}
	d := newData(ex, classes, !opt.NoMirror)
	if opt.method() == LDA {
		if opt.Prior != nil {
			if err := weights.CheckPrior(opt.Prior, d.c); err != nil {
				return nil, fmt.Errorf("teach: %v", err)
			}
		}
		w, b, err := d.trainLDA(opt.shrink(), opt.threshold(), !opt.NoMirror, opt.Prior, opt.priorShrink())
		if err != nil {
			return nil, err
		}
		return d.head(w, b), nil
	}
	return d.head(d.trainLogReg(opt.l2(), opt.steps())), nil
}

// head brings weights w and biases b on the standardised features back to
// the map's units.
func (d *data) head(w, b []float64) *Head {
	K, C := d.labels, d.c
	for j := 0; j < K; j++ {
		for k := 0; k < C; k++ {
			w[j*C+k] = float64(w[j*C+k] * d.inv[k])
		}
	}
	return &Head{Classes: K, Features: C, Weight: w, Center: d.mean, Bias: b}
}

// trainLogReg fits multinomial logistic regression (see Train).
func (d *data) trainLogReg(l2 float64, steps int) (w, b []float64) {
	// The softmax cross-entropy's Hessian is at most ½·[Z 1]ᵀ[Z 1]/n; the
	// centred Z makes the bias column's eigenvalue 1. 10% covers the power
	// iteration's shortfall.
	lip := float64(0.55*max(d.topEigen(), 1)) + l2
	step := 1 / lip
	K, C := d.labels, d.c
	w, b = make([]float64, K*C), make([]float64, K)
	pw, pb := make([]float64, K*C), make([]float64, K)
	yw, yb := make([]float64, K*C), make([]float64, K)
	gw, gb := make([]float64, K*C), make([]float64, K)
	logits := make([]float64, K)
	for t := 0; t < steps; t++ {
		mu := float64(t) / float64(t+3)
		for k := range w {
			yw[k] = w[k] + float64(mu*float64(w[k]-pw[k]))
		}
		for j := range b {
			yb[j] = b[j] + float64(mu*float64(b[j]-pb[j]))
		}
		d.gradient(yw, yb, gw, gb, l2, logits)
		copy(pw, w)
		copy(pb, b)
		for k := range w {
			w[k] = yw[k] - float64(step*gw[k])
		}
		for j := range b {
			b[j] = yb[j] - float64(step*gb[j])
		}
	}
	return w, b
}

// Quantize makes the int8 engine's head (model.QLinear) from h: each
// class's weights are quantised as model.Quantize quantises a trained head
// (model.QuantizeRow: symmetric int8 with a per-class scale), and its bias
// is set so that the quantised head gives exactly the float head's logit
// at the training features' mean.
func (h *Head) Quantize() model.QLinear {
	C := h.Features
	q := model.QLinear{In: C, Out: h.Classes, Weight: make([]int8, h.Classes*C),
		Scale: make([]float32, h.Classes), Bias: make([]float32, h.Classes)}
	for j := 0; j < h.Classes; j++ {
		qw := q.Weight[j*C : (j+1)*C]
		s := model.QuantizeRow(h.Weight[j*C:(j+1)*C], qw)
		q.Scale[j] = s
		var at float64 // the quantised head's weighted sum at Center
		for k, v := range qw {
			at += float64(float64(v) * h.Center[k])
		}
		q.Bias[j] = float32(h.Bias[j] - float64(at*float64(s)))
	}
	return q
}

// Logits applies an int8 head to pooled features exactly as
// model.QNet.Logits applies it to the feature map: integer sums, then one
// float64 scaling per class.
func Logits(l *model.QLinear, p Pooled) []float32 {
	n := float64(p.Cells)
	out := make([]float32, l.Out)
	for c := range out {
		w := l.Weight[c*l.In : (c+1)*l.In]
		var acc int64
		for k, s := range p.Sum {
			acc += int64(w[k]) * s
		}
		out[c] = float32(float64(float64(acc)*float64(l.Scale[c]))/n + float64(l.Bias[c]))
	}
	return out
}

// Predict is the index of the largest of Logits (the first on a tie).
func Predict(l *model.QLinear, p Pooled) int {
	lg := Logits(l, p)
	best := 0
	for c, v := range lg {
		if v > lg[best] {
			best = c
		}
	}
	return best
}
