package main

import (
	"fmt"
	"math"
	"sort"
)

// Research harness (float64, not the shipped path).

type mat struct {
	n, d int
	x    []float64
	y    []int
}

func rowsOf(items []item, views []int) mat {
	var m mat
	for _, it := range items {
		for _, v := range views {
			p := it.Views[v]
			if p.Sum == nil {
				panic(fmt.Sprintf("%s: view %d missing", it.Path, v))
			}
			m.d = len(p.Sum)
			var tot int64
			for _, v := range p.Sum {
				tot += v
			}
			for k := range p.Sum {
				if l1Norm {
					m.x = append(m.x, float64(p.Sum[k])/float64(tot))
				} else {
					m.x = append(m.x, float64(p.Sum[k])/float64(p.Cells))
				}
			}
			m.y = append(m.y, it.Class)
			m.n++
		}
	}
	return m
}

type stdz struct{ mean, inv []float64 }

func fitStd(m mat, mode string) stdz {
	s := stdz{make([]float64, m.d), make([]float64, m.d)}
	for k := 0; k < m.d; k++ {
		var a float64
		for i := 0; i < m.n; i++ {
			a += m.x[i*m.d+k]
		}
		s.mean[k] = a / float64(m.n)
	}
	var tot float64
	for k := 0; k < m.d; k++ {
		var v float64
		for i := 0; i < m.n; i++ {
			dv := m.x[i*m.d+k] - s.mean[k]
			v += dv * dv
		}
		v /= float64(m.n)
		tot += v
		if v > 1e-18 {
			s.inv[k] = 1 / math.Sqrt(v)
		}
	}
	switch mode {
	case "global":
		g := 1 / math.Sqrt(tot/float64(m.d))
		for k := range s.inv {
			s.inv[k] = g
		}
	case "floor": // sd floored at the median sd times 0.5
		sds := make([]float64, 0, m.d)
		for _, iv := range s.inv {
			if iv > 0 {
				sds = append(sds, 1/iv)
			}
		}
		sort.Float64s(sds)
		f := 0.5 * sds[len(sds)/2]
		for k, iv := range s.inv {
			if iv == 0 || 1/iv < f {
				s.inv[k] = 1 / f
			}
		}
	case "sqrtsd": // divide by sqrt(sd)
		for k := range s.inv {
			s.inv[k] = math.Sqrt(s.inv[k])
		}
	}
	return s
}

func (s stdz) apply(m mat) mat {
	o := mat{n: m.n, d: m.d, y: m.y, x: make([]float64, len(m.x))}
	for i := 0; i < m.n; i++ {
		for k := 0; k < m.d; k++ {
			o.x[i*m.d+k] = (m.x[i*m.d+k] - s.mean[k]) * s.inv[k]
		}
	}
	return o
}

type head struct {
	K, d int
	w, b []float64
}

func (h head) acc(m mat) float64 {
	c := 0
	for i := 0; i < m.n; i++ {
		best, bv := 0, math.Inf(-1)
		for j := 0; j < h.K; j++ {
			s := h.b[j]
			for k := 0; k < m.d; k++ {
				s += h.w[j*m.d+k] * m.x[i*m.d+k]
			}
			if s > bv {
				best, bv = j, s
			}
		}
		if best == m.y[i] {
			c++
		}
	}
	return 100 * float64(c) / float64(m.n)
}

func topEig(z mat) float64 {
	v := make([]float64, z.d)
	for k := range v {
		v[k] = 1 + float64(k%7)/7
	}
	var lam float64
	zv := make([]float64, z.n)
	for it := 0; it < 40; it++ {
		for i := 0; i < z.n; i++ {
			var s float64
			for k := 0; k < z.d; k++ {
				s += z.x[i*z.d+k] * v[k]
			}
			zv[i] = s
		}
		w := make([]float64, z.d)
		for i := 0; i < z.n; i++ {
			for k := 0; k < z.d; k++ {
				w[k] += z.x[i*z.d+k] * zv[i]
			}
		}
		var top, vt float64
		for k := range w {
			w[k] /= float64(z.n)
			top = math.Max(top, math.Abs(w[k]))
			vt = math.Max(vt, math.Abs(v[k]))
		}
		lam = top / vt
		for k := range w {
			w[k] /= top
		}
		v = w
	}
	return lam
}

// lr: multinomial LR with the penalty l2/2·|W-W0|² and label smoothing
// eps, by Nesterov steps started at (W0, b0); h0 nil: W0 and b0 zero.
func lr(z mat, K int, l2 float64, steps int, eps float64, h0 *head) head {
	C := z.d
	lip := 0.55*math.Max(topEig(z), 1) + l2
	step := 1 / lip
	w, b := make([]float64, K*C), make([]float64, K)
	if h0 != nil {
		copy(w, h0.w)
		copy(b, h0.b)
	}
	pw, pb := append([]float64(nil), w...), append([]float64(nil), b...)
	yw, yb := make([]float64, K*C), make([]float64, K)
	gw, gb := make([]float64, K*C), make([]float64, K)
	lg := make([]float64, K)
	for t := 0; t < steps; t++ {
		mu := float64(t) / float64(t+3)
		for k := range w {
			yw[k] = w[k] + mu*(w[k]-pw[k])
		}
		for j := range b {
			yb[j] = b[j] + mu*(b[j]-pb[j])
		}
		clear(gw)
		clear(gb)
		for i := 0; i < z.n; i++ {
			row := z.x[i*C : (i+1)*C]
			top := math.Inf(-1)
			for j := 0; j < K; j++ {
				s := yb[j]
				wj := yw[j*C : (j+1)*C]
				for k, x := range row {
					s += wj[k] * x
				}
				lg[j] = s
				top = math.Max(top, s)
			}
			var sum float64
			for j := range lg {
				lg[j] = math.Exp(lg[j] - top)
				sum += lg[j]
			}
			for j := 0; j < K; j++ {
				g := lg[j]/sum - eps/float64(K)
				if j == z.y[i] {
					g -= 1 - eps
				}
				gb[j] += g
				gj := gw[j*C : (j+1)*C]
				for k, x := range row {
					gj[k] += g * x
				}
			}
		}
		for j := range gb {
			gb[j] /= float64(z.n)
		}
		for k := range gw {
			r := yw[k]
			if h0 != nil {
				r -= h0.w[k]
			}
			gw[k] = gw[k]/float64(z.n) + l2*r
		}
		copy(pw, w)
		copy(pb, b)
		for k := range w {
			w[k] = yw[k] - step*gw[k]
		}
		for j := range b {
			b[j] = yb[j] - step*gb[j]
		}
	}
	return head{K, C, w, b}
}

// cholSolve solves A X = B for symmetric positive definite A (d x d) and
// B (d x K), in place in B.
func cholSolve(a []float64, d int, bm []float64, K int) {
	l := make([]float64, d*d)
	for i := 0; i < d; i++ {
		for j := 0; j <= i; j++ {
			s := a[i*d+j]
			for k := 0; k < j; k++ {
				s -= l[i*d+k] * l[j*d+k]
			}
			if i == j {
				l[i*d+i] = math.Sqrt(s)
			} else {
				l[i*d+j] = s / l[j*d+j]
			}
		}
	}
	for c := 0; c < K; c++ {
		y := make([]float64, d)
		for i := 0; i < d; i++ {
			s := bm[i*K+c]
			for k := 0; k < i; k++ {
				s -= l[i*d+k] * y[k]
			}
			y[i] = s / l[i*d+i]
		}
		for i := d - 1; i >= 0; i-- {
			s := y[i]
			for k := i + 1; k < d; k++ {
				s -= l[k*d+i] * bm[k*K+c]
			}
			bm[i*K+c] = s / l[i*d+i]
		}
	}
}

// ldaT: shrinkage LDA on z: Σ = (1-a)·Sw + a·T + 1e-9·I, T diag(Sw) (diag)
// or (tr Sw/d)·I.
func ldaT(z mat, K int, a float64, diag bool) head {
	d := z.d
	mu := classMeans(z, K)
	sw := within(z, K)
	var target []float64 // nil: toward diag(sw)
	if !diag {
		var tr float64
		for p := 0; p < d; p++ {
			tr += sw[p*d+p]
		}
		target = make([]float64, d)
		for p := range target {
			target[p] = tr / float64(d)
		}
	}
	shrink(sw, d, a, target)
	return solveHead(mu, sw, d, K)
}

// research compares the methods tried (float heads; the shipped path is
// report's).
func research(c *cache) {
	two := []int{0, 1}
	all := make([]int, len(allViews))
	for i := range all {
		all[i] = i
	}
	std := func(fit func(z mat, K int) head) func(tr mat, K int) (head, stdz) {
		return func(tr mat, K int) (head, stdz) {
			s := fitStd(tr, "sd")
			return fit(s.apply(tr), K), s
		}
	}
	for _, views := range [][]int{two, all} {
		v := fmt.Sprintf("%d views", len(views))
		for _, l2 := range []float64{1e-4, 0.01, 1, 10} {
			evalAll(c, fmt.Sprintf("logreg L2 %g, %s", l2, v), views, std(func(z mat, K int) head { return lr(z, K, l2, 300, 0, nil) }))
		}
		if len(views) == 2 {
			evalAll(c, "logreg L2 0.01 1000 steps, "+v, views, std(func(z mat, K int) head { return lr(z, K, 0.01, 1000, 0, nil) }))
			evalAll(c, "logreg L2 0.01 label smoothing 0.1, "+v, views, std(func(z mat, K int) head { return lr(z, K, 0.01, 300, 0.1, nil) }))
		}
		for _, a := range []float64{0.2, 0.5, 0.8, 0.9, 1} {
			evalAll(c, fmt.Sprintf("lda shrink %g to tr/d I, %s", a, v), views, std(func(z mat, K int) head { return ldaT(z, K, a, false) }))
		}
		for _, a := range []float64{0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1} {
			evalAll(c, fmt.Sprintf("lda shrink %g to diag, %s", a, v), views, std(func(z mat, K int) head { return ldaT(z, K, a, true) }))
		}
	}
	evalAll(c, "lda shrink 0.8 to diag, no mirror", []int{0}, std(func(z mat, K int) head { return ldaT(z, K, 0.8, true) }))
	for _, trim := range []float64{0.1, 0.2} {
		evalAll(c, fmt.Sprintf("lda shrink 0.8 to diag, trimmed means %g", trim), two, std(func(z mat, K int) head {
			return ldaWith(robustMeans(z, K, trim), within(z, K), z.d, K, 0.8)
		}))
	}
	for _, wa := range []float64{0.5, 0.7} {
		evalAll(c, fmt.Sprintf("%.1f lda 0.8 + %.1f logreg (logits)", wa, 1-wa), two, std(func(z mat, K int) head {
			return addHeads(norml(ldaT(z, K, 0.8, true), z), norml(lr(z, K, 0.01, 300, 0, nil), z), wa)
		}))
	}
	l1Norm = true
	evalAll(c, "L1-normalised training, lda 0.8 diag", two, std(func(z mat, K int) head { return ldaT(z, K, 0.8, true) }))
	evalAll(c, "L1-normalised training, logreg 0.01", two, std(func(z mat, K int) head { return lr(z, K, 0.01, 300, 0, nil) }))
	l1Norm = false
}

// l1Norm makes rowsOf divide each view's features by their sum (a
// training-set transform; such a head folds back into a bias-free head
// linear in the raw features).
var l1Norm bool
