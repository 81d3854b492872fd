package protocol

import "math"

// Probs is the softmax of logits, computed in float64: the one definition
// of a Prediction's Prob (Softmax) and of the page's probabilities.
func Probs(logits []float32) []float64 {
	m := math.Inf(-1)
	for _, v := range logits {
		m = math.Max(m, float64(v))
	}
	var sum float64
	p := make([]float64, len(logits))
	for i, v := range logits {
		p[i] = math.Exp(float64(v) - m)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	return p
}

// Softmax is Probs rounded to float32, as a Prediction's Prob.
func Softmax(logits []float32) []float32 {
	p := make([]float32, len(logits))
	for i, v := range Probs(logits) {
		p[i] = float32(v)
	}
	return p
}
