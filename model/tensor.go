package model

// Tensor is a dense float32 tensor in row-major (C) order, as PyTorch stores
// state-dict entries.
type Tensor struct {
	Shape []int
	Data  []float32
}

// StateDict maps PyTorch state-dict names ("layer1.0.conv1.weight") to tensors.
type StateDict map[string]*Tensor
