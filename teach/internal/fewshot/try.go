package main

import (
	"flag"
	"fmt"
	"math"
)

var tryFlag = flag.String("try", "", "try shrunken class means (means), logistic regression centred on the discriminant (lr) or both (all)")

// ldaShrunkMeans is LDA diag 0.8 with each class mean scaled toward the
// grand mean (0 after standardisation) by factor f(c, |μ_c|²_Σ⁻¹).
func ldaShrunkMeans(z mat, K int, a float64, f func(c int, m2 float64, nc float64) float64) head {
	d := z.d
	mu := classMeans(z, K)
	sw := within(z, K)
	gm := grandMean(mu, d, K) // 0 up to rounding for balanced classes
	cnt := classCounts(z, K)
	// Mahalanobis norms of mu_c - gm
	bm := make([]float64, d*K)
	for c := 0; c < K; c++ {
		for k := 0; k < d; k++ {
			bm[k*K+c] = mu[c*d+k] - gm[k]
		}
	}
	sol := append([]float64(nil), bm...)
	shrunk := append([]float64(nil), sw...)
	shrink(shrunk, d, a, nil)
	cholSolve(shrunk, d, sol, K)
	nm := make([]float64, K*d)
	for c := 0; c < K; c++ {
		var m2 float64
		for k := 0; k < d; k++ {
			m2 += sol[k*K+c] * bm[k*K+c]
		}
		s := f(c, m2, cnt[c])
		for k := 0; k < d; k++ {
			nm[c*d+k] = gm[k] + s*bm[k*K+c]
		}
	}
	return ldaWith(nm, sw, d, K, a)
}

func tryAll(c *cache, which string) {
	two := []int{0, 1}
	std := func(fit func(z mat, K int) head) func(tr mat, K int) (head, stdz) {
		return func(tr mat, K int) (head, stdz) {
			s := fitStd(tr, "sd")
			return fit(s.apply(tr), K), s
		}
	}
	if which == "" || which == "means" {
		evalAll(c, "lda 0.8 diag (default)", two, std(func(z mat, K int) head { return ldaT(z, K, 0.8, true) }))
		for _, s := range []float64{0.9, 0.8, 0.7, 0.6, 0.5} {
			evalAll(c, fmt.Sprintf("lda 0.8, means scaled %g", s), two, std(func(z mat, K int) head {
				return ldaShrunkMeans(z, K, 0.8, func(int, float64, float64) float64 { return s })
			}))
		}
		// James-Stein per class in the Σ-whitened space: noise var of the
		// mean per dim ≈ 1/n_eff; n_eff = images (mirror pairs count once) times g
		for _, g := range []float64{1, 0.5} {
			evalAll(c, fmt.Sprintf("lda 0.8, James-Stein means (n_eff = %g·images)", g), two, std(func(z mat, K int) head {
				return ldaShrunkMeans(z, K, 0.8, func(_ int, m2, nc float64) float64 {
					neff := g * nc / 2
					return math.Max(0, 1-float64(z.d-2)/(neff*m2))
				})
			}))
		}
	}
	if which == "" || which == "nsc" {
		// nearest shrunken centroids: per feature, soft-threshold the class
		// mean's deviation from the grand mean in units of the feature's
		// within-class sd of a class mean.
		for _, dl := range []float64{0.25, 0.5, 1, 1.5, 2} {
			evalAll(c, fmt.Sprintf("lda 0.8, soft-thresholded means Δ %g", dl), two, std(func(z mat, K int) head {
				return ldaNSC(z, K, 0.8, dl)
			}))
		}
	}
	if which == "grid" {
		for _, a := range []float64{0.7, 0.8, 0.9} {
			for _, dl := range []float64{0.5, 0.75, 1, 1.25, 1.5} {
				if a == 0.8 && (dl == 0.5 || dl == 1 || dl == 1.5) {
					continue
				}
				evalAll(c, fmt.Sprintf("lda %g, soft-thresholded means Δ %g", a, dl), two, std(func(z mat, K int) head {
					return ldaNSC(z, K, a, dl)
				}))
			}
		}
	}
	if which == "grid2" {
		for _, ad := range [][2]float64{{0.9, 1.75}, {0.9, 2}, {0.85, 1.25}, {0.85, 1.5}, {0.85, 1.75}, {0.95, 1.5}} {
			evalAll(c, fmt.Sprintf("lda %g, soft-thresholded means Δ %g", ad[0], ad[1]), two, std(func(z mat, K int) head {
				return ldaNSC(z, K, ad[0], ad[1])
			}))
		}
	}
	if which == "" || which == "lr" {
		for _, l2 := range []float64{0.001, 0.01, 0.1, 1} {
			evalAll(c, fmt.Sprintf("logreg centred on lda 0.8, L2 %g", l2), two, std(func(z mat, K int) head {
				h0 := ldaT(z, K, 0.8, true)
				return lr(z, K, l2, 300, 0, &h0)
			}))
		}
	}
}

func ldaNSC(z mat, K int, a, dl float64) head {
	nm, sw := nscMeans(z, K, dl)
	return ldaWith(nm, sw, z.d, K, a)
}

// nscMeans are the class means of z soft-thresholded per feature by dl
// standard errors of a class mean (nearest shrunken centroids), and the
// within-class covariance.
func nscMeans(z mat, K int, dl float64) (nm, sw []float64) {
	d := z.d
	mu := classMeans(z, K)
	sw = within(z, K)
	gm := grandMean(mu, d, K)
	cnt := classCounts(z, K)
	nm = make([]float64, K*d)
	for c := 0; c < K; c++ {
		se := 1 / math.Sqrt(cnt[c]/2)
		for k := 0; k < d; k++ {
			t := dl * se * math.Sqrt(sw[k*d+k])
			v := mu[c*d+k] - gm[k]
			switch {
			case v > t:
				v -= t
			case v < -t:
				v += t
			default:
				v = 0
			}
			nm[c*d+k] = gm[k] + v
		}
	}
	return nm, sw
}
