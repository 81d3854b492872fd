package model

// Tensor is a dense float32 tensor in row-major (C) order, as PyTorch stores
// state-dict entries.
type Tensor struct {
	Shape []int
	Data  []float32
}

// StateDict maps PyTorch state-dict names ("layer1.0.conv1.weight") to tensors.
type StateDict map[string]*Tensor

// Argmax is the index of the largest value of v (the first of equals), or 0
// for an empty v: the top-1 class of a logit vector.
func Argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}
