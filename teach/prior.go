package teach

import (
	"fmt"
	"math"

	"github.com/bagnetweb/bagnet/weights"
)

// Prior computes a backbone's feature prior (weights.Model.Prior) from
// examples of a labelled image set, normally the backbone's own training
// set: the within-class correlation of the pooled mean features (images
// and their mirror images, each around its class's mean), rounded to
// multiples of 1/weights.PriorOne. A feature that does not vary within the
// classes is uncorrelated with the others.
//
// The prior is what makes teaching from few images work better: ten images
// per class cannot estimate how hundreds of features vary together, while
// the backbone's training set can, and the way a backbone's features vary
// together within a class carries over to classes it never saw (see
// trainLDA and docs/teach.md).
func Prior(ex []Example, classes int) ([]int8, error) {
	C, err := checkExamples(ex, classes)
	if err != nil {
		return nil, err
	}
	mu := make([]float64, classes*C)
	count := make([]float64, classes)
	for _, e := range ex {
		for _, p := range []Pooled{e.Image, e.Flip} {
			count[e.Class]++
			m := mu[e.Class*C : (e.Class+1)*C]
			for k := range m {
				m[k] += p.mean(k)
			}
		}
	}
	for c := range classes {
		for k := range C {
			if count[c] > 0 {
				mu[c*C+k] /= count[c]
			}
		}
	}
	s := make([]float64, C*C) // lower triangle
	r := make([]float64, C)
	for _, e := range ex {
		for _, p := range []Pooled{e.Image, e.Flip} {
			for k := range r {
				r[k] = p.mean(k) - mu[e.Class*C+k]
			}
			for a := 0; a < C; a++ {
				if r[a] == 0 {
					continue
				}
				row := s[a*C : a*C+a+1]
				for b := range row {
					row[b] += float64(r[a] * r[b])
				}
			}
		}
	}
	out := make([]int8, 0, weights.PriorLen(C))
	for a := 0; a < C; a++ {
		for b := 0; b <= a; b++ {
			if a == b {
				out = append(out, weights.PriorOne)
				continue
			}
			v := 0.0
			if den := math.Sqrt(s[a*C+a]) * math.Sqrt(s[b*C+b]); den > 0 {
				v = math.Round(s[a*C+b] / den * weights.PriorOne)
			}
			out = append(out, int8(max(-weights.PriorOne, min(weights.PriorOne, v))))
		}
	}
	if err := weights.CheckPrior(out, C); err != nil {
		return nil, fmt.Errorf("teach: %v", err)
	}
	return out, nil
}
