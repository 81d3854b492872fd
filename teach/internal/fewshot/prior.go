package main

import (
	"fmt"
	"image"
	"math"
	"os"

	"github.com/bagnetweb/bagnet/teach"
	"github.com/bagnetweb/bagnet/weights"
)

// The research behind the feature prior (-try prior; docs/teach.md): LDA
// whose covariance target is the correlation of the backbone's training
// images (train images 200 and on, which no protocol here teaches from or
// scores), float heads.

// priorItems pools image and mirror image of train images [from, ...) of
// each class (cached in path).
func priorItems(data, wpath, path string, from, workers int) ([]item, error) {
	m, err := weights.LoadFile(wpath)
	if err != nil {
		return nil, err
	}
	id, err := backboneID(m)
	if err != nil {
		return nil, err
	}
	if c, err := loadCache(path); err == nil && c.Weights == id {
		return c.Train, nil
	}
	_, images, err := listSplit(data, "train")
	if err != nil {
		return nil, err
	}
	var items []item
	for c, list := range images {
		for _, p := range list[from:] {
			items = append(items, item{Path: p, Class: c, Views: make([]teach.Pooled, 2)})
		}
	}
	err = eachImage(data, items, workers, func(done int) {
		if done%500 == 0 {
			fmt.Fprintf(os.Stderr, "prior: %d of %d\n", done, len(items))
		}
	}, func(i int, img image.Image) error {
		for v := 0; v < 2; v++ {
			f, err := features(m, img, allViews[v])
			if err != nil {
				return err
			}
			items[i].Views[v] = teach.Pool(f)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return items, saveCache(path, &cache{Weights: id, Train: items})
}

// corr is the correlation matrix of the covariance P.
func corr(P []float64, d int) []float64 {
	R := make([]float64, d*d)
	for p := 0; p < d; p++ {
		for q := 0; q < d; q++ {
			den := math.Sqrt(P[p*d+p] * P[q*d+q])
			if den > 0 {
				R[p*d+q] = P[p*d+q] / den
			}
		}
	}
	return R
}

// quant8 rounds each entry of R to a multiple of 1/127 (int8 storage).
func quant8(R []float64) []float64 {
	o := make([]float64, len(R))
	for i, v := range R {
		o[i] = math.Round(v*127) / 127
	}
	return o
}

// ldaCorr: thresholded means; Σ = (1-a)·S + a·D^½ R D^½, D = diag(S)
// (R = I: the default).
func ldaCorr(z mat, K int, a, dl float64, R []float64) head {
	d := z.d
	nm, sw := nscMeans(z, K, dl)
	s := make([]float64, d*d)
	for p := 0; p < d; p++ {
		for q := 0; q < d; q++ {
			t := 0.0
			if p == q {
				t = sw[p*d+p]
			} else if R != nil {
				t = math.Sqrt(sw[p*d+p]*sw[q*d+q]) * R[p*d+q]
			}
			s[p*d+q] = (1-a)*sw[p*d+q] + a*t
		}
		s[p*d+p] += 1e-9
	}
	return solveHead(nm, s, d, K)
}

// lowRank is R's best rank-r correlation approximation with unit
// diagonal: V_r Λ_r V_rᵀ off the diagonal (power iteration with deflation).
func lowRank(R []float64, d, r int) []float64 {
	A := append([]float64(nil), R...)
	out := make([]float64, d*d)
	v := make([]float64, d)
	w := make([]float64, d)
	for j := 0; j < r; j++ {
		for i := range v {
			v[i] = 1 / math.Sqrt(float64(d)) * (1 + 0.01*float64(i%7))
		}
		var lam float64
		for it := 0; it < 200; it++ {
			for p := 0; p < d; p++ {
				var s float64
				for q := 0; q < d; q++ {
					s += A[p*d+q] * v[q]
				}
				w[p] = s
			}
			var n float64
			for _, x := range w {
				n += x * x
			}
			n = math.Sqrt(n)
			lam = n
			for i := range v {
				v[i] = w[i] / n
			}
		}
		for p := 0; p < d; p++ {
			for q := 0; q < d; q++ {
				A[p*d+q] -= lam * v[p] * v[q]
				out[p*d+q] += lam * v[p] * v[q]
			}
		}
	}
	for p := 0; p < d; p++ {
		out[p*d+p] = 1
	}
	return out
}

func tryPrior(c *cache, data, wpath string, workers int) {
	two := []int{0, 1}
	pit, err := priorItems(data, wpath, "/tmp/fewshot-prior.gob", 200, workers)
	if err != nil {
		fmt.Println(err)
		return
	}
	z := rowsOf(pit, two)
	d := z.d
	P := within(z, len(c.Classes))
	R := corr(P, d)
	raw := func(fit func(z mat, K int) head) func(tr mat, K int) (head, stdz) {
		return func(tr mat, K int) (head, stdz) {
			s := fitStd(tr, "sd")
			return fit(s.apply(tr), K), s
		}
	}
	evalAll(c, "no prior: lda 0.85 toward diag, t 1.25 (the default without)", two, raw(func(z mat, K int) head { return ldaCorr(z, K, 0.85, 1.25, nil) }))
	for _, a := range []float64{0.9, 1} {
		for _, sh := range []float64{0, 0.3, 0.5, 0.6, 0.65, 0.7, 0.8, 0.9} {
			for _, t := range []float64{0.5, 0.75, 1.25} {
				if a != 1 && t != 1.25 {
					continue
				}
				Rs := make([]float64, len(R))
				for i := range R {
					Rs[i] = (1 - sh) * R[i]
				}
				evalAll(c, fmt.Sprintf("prior: a %g, R shrunk %g, t %g", a, sh, t), two, raw(func(z mat, K int) head { return ldaCorr(z, K, a, t, Rs) }))
			}
		}
	}
	Rq := quant8(R)
	for i := range Rq {
		Rq[i] *= 1 - 0.6
	}
	evalAll(c, "prior in int8: a 1, R shrunk 0.6, t 0.75", two, raw(func(z mat, K int) head { return ldaCorr(z, K, 1, 0.75, Rq) }))
	for _, r := range []int{8, 32} {
		Rl := lowRank(R, d, r)
		for i := range Rl {
			if i%(d+1) != 0 {
				Rl[i] *= 1 - 0.6
			}
		}
		evalAll(c, fmt.Sprintf("prior of rank %d: a 1, R shrunk 0.6, t 0.75", r), two, raw(func(z mat, K int) head { return ldaCorr(z, K, 1, 0.75, Rl) }))
	}
}
