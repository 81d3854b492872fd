package teach

import (
	"fmt"
	"math"

	"github.com/bagnetweb/bagnet/weights"
)

// ridge is added, times Options.Shrink, to the diagonal of the shrunk
// covariance (standardised units, where a channel's total variance is 1):
// it keeps the matrix positive definite when a channel does not vary
// within the classes.
const ridge = 1e-3

// absentBias is the bias of a class without training samples: far below
// any logit of a class that has some, still finite in float32.
const absentBias = -1e30

// trainLDA fits a shrinkage linear discriminant on the standardised
// features of d: the pooled within-class covariance S (divided by the
// number of samples, around the class means m_c), shrunk toward its own
// diagonal,
//
//	Σ = (1-a)·S + a·(diag(S) + ridge·I),
//
// and the class means shrunk toward their average m̄ (over the classes with
// samples) by soft thresholding each feature (nearest shrunken centroids):
//
//	μ_ck = m̄_k + sign(v)·max(|v| - t·sqrt(S_kk/n_c), 0),  v = m_ck - m̄_k,
//
// With a prior R (the backbone's within-class feature correlation,
// weights.Model.Prior), the target is the prior instead of the diagonal:
//
//	Σ = (1-a)·S + a·(D^½·((1-p)·R + p·I)·D^½ + ridge·I),  D = diag(S),
//
// p the prior's shrinkage toward the identity (a = 1 by default: only the
// images' variances are used, their covariances come from the prior).
//
// t the threshold in standard errors of a class mean, n_c the class's
// images (a mirror image is not counted: it is not an independent
// sample), give the weights w_c = Σ⁻¹μ_c and the bias -½·μ_cᵀw_c (equal class
// priors), by a Cholesky factorisation and triangular solves. A class
// without samples (in a cross-validation fold) gets zero weights and the
// bias absentBias, so it is never predicted. Every
// operation is a +, -, *, / or math.Sqrt on float64 in a fixed order, each
// product rounded explicitly, so the result is the same on every platform.
func (d *data) trainLDA(a, t float64, mirror bool, prior []int8, p float64) ([]float64, []float64, error) {
	K, C := d.labels, d.c
	mu := make([]float64, K*C)
	count := make([]int, K)
	for i := 0; i < d.n; i++ {
		c := d.y[i]
		count[c]++
		m := mu[c*C : (c+1)*C]
		for k, x := range d.z[i*C : (i+1)*C] {
			m[k] += x
		}
	}
	for c := 0; c < K; c++ {
		if count[c] > 0 {
			for k := range C {
				mu[c*C+k] /= float64(count[c])
			}
		}
	}
	// The lower triangle of S, row by row; r is a sample's residual.
	s := make([]float64, C*C)
	r := make([]float64, C)
	for i := 0; i < d.n; i++ {
		c := d.y[i]
		for k, x := range d.z[i*C : (i+1)*C] {
			r[k] = x - mu[c*C+k]
		}
		for p := 0; p < C; p++ {
			rp := r[p]
			if rp == 0 {
				continue // adds exact zeros
			}
			row := s[p*C : p*C+p+1]
			for q := range row {
				row[q] += float64(rp * r[q])
			}
		}
	}
	n := float64(d.n)
	if t > 0 {
		d.shrinkMeans(mu, count, s, t, mirror)
	}
	sd := make([]float64, C) // sqrt(S_pp)
	for i := 0; i < C; i++ {
		sd[i] = math.Sqrt(s[i*C+i] / n)
	}
	pi := 0 // index into prior's lower triangle
	for i := 0; i < C; i++ {
		for j := 0; j < i; j++ {
			v := float64(float64(1-a) * float64(s[i*C+j]/n))
			if prior != nil {
				r := float64(float64(1-p)*float64(prior[pi+j])) / weights.PriorOne
				v += float64(a * float64(float64(r*sd[i])*sd[j]))
			}
			s[i*C+j] = v
		}
		pi += i + 1
		s[i*C+i] = s[i*C+i]/n + float64(a*ridge)
	}
	if err := cholesky(s, C); err != nil {
		if prior != nil {
			return nil, nil, fmt.Errorf("%v (with the model's feature prior: is the prior a correlation matrix?)", err)
		}
		return nil, nil, err
	}
	w, b := make([]float64, K*C), make([]float64, K)
	for c := 0; c < K; c++ {
		if count[c] == 0 {
			b[c] = absentBias
			continue
		}
		wc := w[c*C : (c+1)*C]
		choleskySolve(s, C, mu[c*C:(c+1)*C], wc)
		var dot float64
		for k, v := range wc {
			dot += float64(v * mu[c*C+k])
		}
		b[c] = float64(-0.5 * dot)
	}
	return w, b, nil
}

// shrinkMeans soft-thresholds the class means mu toward their average
// (see trainLDA); s holds the sums of squared residuals on its diagonal.
func (d *data) shrinkMeans(mu []float64, count []int, s []float64, t float64, mirror bool) {
	K, C := d.labels, d.c
	n := float64(d.n)
	grand := make([]float64, C)
	present := 0
	for c := 0; c < K; c++ {
		if count[c] == 0 {
			continue
		}
		present++
		for k := range C {
			grand[k] += mu[c*C+k]
		}
	}
	for k := range C {
		grand[k] /= float64(present)
	}
	for c := 0; c < K; c++ {
		if count[c] == 0 {
			continue
		}
		images := float64(count[c])
		if mirror {
			images /= 2
		}
		for k := range C {
			th := float64(t * math.Sqrt(s[k*C+k]/n/images))
			v := mu[c*C+k] - grand[k]
			switch {
			case v > th:
				v -= th
			case v < -th:
				v += th
			default:
				v = 0
			}
			mu[c*C+k] = grand[k] + v
		}
	}
}

// cholesky replaces the lower triangle of the symmetric positive definite
// n x n matrix a (row-major; the upper triangle is ignored) with its
// Cholesky factor L (a = L·Lᵀ).
func cholesky(a []float64, n int) error {
	for j := 0; j < n; j++ {
		rj := a[j*n : j*n+j]
		v := a[j*n+j]
		for _, x := range rj {
			v -= float64(x * x)
		}
		if !(v > 0) {
			return fmt.Errorf("teach: the shrunk covariance is not positive definite at feature %d", j)
		}
		v = math.Sqrt(v)
		a[j*n+j] = v
		for i := j + 1; i < n; i++ {
			ri := a[i*n : i*n+j]
			s := a[i*n+j]
			for k, x := range ri {
				s -= float64(x * rj[k])
			}
			a[i*n+j] = s / v
		}
	}
	return nil
}

// choleskySolve solves L·Lᵀ·x = b for x, L the factor cholesky left in the
// lower triangle of l.
func choleskySolve(l []float64, n int, b, x []float64) {
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		s := b[i]
		for k, v := range l[i*n : i*n+i] {
			s -= float64(v * y[k])
		}
		y[i] = s / l[i*n+i]
	}
	for i := n - 1; i >= 0; i-- {
		s := y[i]
		for k := i + 1; k < n; k++ {
			s -= float64(l[k*n+i] * x[k])
		}
		x[i] = s / l[i*n+i]
	}
}
