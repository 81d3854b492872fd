package main

import (
	"fmt"
	"math"
	"sort"
)

// classMeans returns the K class means of z.
func classMeans(z mat, K int) []float64 {
	d := z.d
	mu := make([]float64, K*d)
	cnt := make([]float64, K)
	for i := 0; i < z.n; i++ {
		c := z.y[i]
		cnt[c]++
		for k := 0; k < d; k++ {
			mu[c*d+k] += z.x[i*d+k]
		}
	}
	for c := 0; c < K; c++ {
		for k := 0; k < d; k++ {
			mu[c*d+k] /= cnt[c]
		}
	}
	return mu
}

// within is the within-class covariance of z (d x d).
func within(z mat, K int) []float64 {
	d := z.d
	mu := classMeans(z, K)
	sw := make([]float64, d*d)
	r := make([]float64, d)
	for i := 0; i < z.n; i++ {
		c := z.y[i]
		for k := 0; k < d; k++ {
			r[k] = z.x[i*d+k] - mu[c*d+k]
		}
		for p := 0; p < d; p++ {
			for q := 0; q <= p; q++ {
				sw[p*d+q] += r[p] * r[q]
			}
		}
	}
	for p := 0; p < d; p++ {
		for q := 0; q <= p; q++ {
			sw[p*d+q] /= float64(z.n)
			sw[q*d+p] = sw[p*d+q]
		}
	}
	return sw
}

// ldaWith is LDA with the means mu and the covariance sw0 shrunk toward its
// diagonal by a.
func ldaWith(mu, sw0 []float64, d, K int, a float64) head {
	sw := append([]float64(nil), sw0...)
	shrink(sw, d, a, nil)
	return solveHead(mu, sw, d, K)
}

// shrink replaces sw (d x d) in place with (1-a)·sw + a·diag(target) +
// 1e-9·I; target nil: sw's own diagonal.
func shrink(sw []float64, d int, a float64, target []float64) {
	for p := 0; p < d; p++ {
		dg := sw[p*d+p]
		if target != nil {
			dg = target[p]
		}
		for q := 0; q < d; q++ {
			sw[p*d+q] *= 1 - a
		}
		sw[p*d+p] += a*dg + 1e-9
	}
}

// solveHead is the discriminant of the class means mu (K x d) under the
// covariance sw (d x d, overwritten): w_c = sw⁻¹·mu_c, b_c = -½·mu_cᵀw_c.
func solveHead(mu, sw []float64, d, K int) head {
	bm := make([]float64, d*K)
	for c := 0; c < K; c++ {
		for k := 0; k < d; k++ {
			bm[k*K+c] = mu[c*d+k]
		}
	}
	cholSolve(sw, d, bm, K)
	h := head{K, d, make([]float64, K*d), make([]float64, K)}
	for c := 0; c < K; c++ {
		var s float64
		for k := 0; k < d; k++ {
			h.w[c*d+k] = bm[k*K+c]
			s += bm[k*K+c] * mu[c*d+k]
		}
		h.b[c] = -s / 2
	}
	return h
}

// grandMean is the average of the K class means mu (K x d).
func grandMean(mu []float64, d, K int) []float64 {
	gm := make([]float64, d)
	for c := 0; c < K; c++ {
		for k := 0; k < d; k++ {
			gm[k] += mu[c*d+k] / float64(K)
		}
	}
	return gm
}

// classCounts is the number of rows of each of the K classes of z.
func classCounts(z mat, K int) []float64 {
	cnt := make([]float64, K)
	for _, y := range z.y {
		cnt[y]++
	}
	return cnt
}

// robustMeans are per class and feature the means of the values without
// the lowest and highest trim fraction.
func robustMeans(z mat, K int, trim float64) []float64 {
	d := z.d
	mu := make([]float64, K*d)
	for c := 0; c < K; c++ {
		var idx []int
		for i := 0; i < z.n; i++ {
			if z.y[i] == c {
				idx = append(idx, i)
			}
		}
		vals := make([]float64, len(idx))
		for k := 0; k < d; k++ {
			for j, i := range idx {
				vals[j] = z.x[i*d+k]
			}
			sort.Float64s(vals)
			t := int(trim * float64(len(vals)))
			var s float64
			for _, v := range vals[t : len(vals)-t] {
				s += v
			}
			mu[c*d+k] = s / float64(len(vals)-2*t)
		}
	}
	return mu
}

// addHeads is wa·a + (1-wa)·b.
func addHeads(a, b head, wa float64) head {
	h := head{a.K, a.d, make([]float64, len(a.w)), make([]float64, len(a.b))}
	for i := range h.w {
		h.w[i] = wa*a.w[i] + (1-wa)*b.w[i]
	}
	for i := range h.b {
		h.b[i] = wa*a.b[i] + (1-wa)*b.b[i]
	}
	return h
}

// norml scales h so that its logits on z have a root mean square of 1.
func norml(h head, z mat) head {
	var s float64
	for i := 0; i < z.n; i++ {
		for j := 0; j < h.K; j++ {
			v := h.b[j]
			for k := 0; k < z.d; k++ {
				v += h.w[j*z.d+k] * z.x[i*z.d+k]
			}
			s += v * v
		}
	}
	f := math.Sqrt(1 / (s/float64(z.n*h.K) + 1e-30))
	for i := range h.w {
		h.w[i] *= f
	}
	for i := range h.b {
		h.b[i] *= f
	}
	return h
}

// evalAll prints the float head's top-1 of fit on the val draws, on the
// dev draws (taught from train images [20+10d, 30+10d) of each class,
// scored on train images [100, 200): the protocol the settings were chosen
// on) and on the train protocol's k = 10.
func evalAll(c *cache, name string, views []int, fit func(tr mat, K int) (head, stdz)) {
	K := len(c.Classes)
	var vs, ds float64
	var out string
	for d := 0; d < valDraws; d++ {
		tr, rest := split(c.Val, 10*d, 10)
		h, s := fit(rowsOf(tr, views), K)
		a := h.acc(s.apply(rowsOf(rest, []int{0})))
		vs += a
		out += fmt.Sprintf(" %.1f", a)
	}
	devTest, _ := split(c.Train, 100, 100)
	for d := 0; d < 4; d++ {
		tr, _ := split(c.Train, 20+10*d, 10)
		h, s := fit(rowsOf(tr, views), K)
		ds += h.acc(s.apply(rowsOf(devTest, []int{0})))
	}
	tr, _ := split(c.Train, 0, 10)
	h, s := fit(rowsOf(tr, views), K)
	t10 := h.acc(s.apply(rowsOf(c.Val, []int{0})))
	fmt.Printf("%-52s dev %.2f | val draws %.2f [%s] | train k=10 %.2f\n", name, ds/4, vs/valDraws, out, t10)
}
