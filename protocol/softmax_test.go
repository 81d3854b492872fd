package protocol

import (
	"math"
	"testing"
)

func TestSoftmax(t *testing.T) {
	// Softmax of (1, 3, 2): e^k / (e + e^3 + e^2); large logits do not overflow.
	e := math.E
	sum := e + e*e*e + e*e
	for _, logits := range [][]float32{{1, 3, 2}, {1001, 1003, 1002}} {
		p := Probs(logits)
		want := []float64{e / sum, e * e * e / sum, e * e / sum}
		for i := range want {
			if math.Abs(p[i]-want[i]) > 1e-12 {
				t.Errorf("Probs(%v)[%d] = %v, want %v", logits, i, p[i], want[i])
			}
			if s := Softmax(logits); s[i] != float32(p[i]) {
				t.Errorf("Softmax(%v)[%d] = %v, want Probs rounded, %v", logits, i, s[i], float32(p[i]))
			}
		}
	}
	if len(Probs(nil)) != 0 {
		t.Error("Probs(nil) is not empty")
	}
}
