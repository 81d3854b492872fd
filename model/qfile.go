package model

// QTensor is one tensor of an int8 network's model file: its name, its
// shape and the field of the network that holds it (I8 or F32).
type QTensor struct {
	Name  string
	Shape []int
	I8    *[]int8
	F32   *[]float32
}

// NewQNetShape makes an int8 network of cfg with every layer's shape set
// and no tensors: what Tensors needs to read a model file into.
func NewQNetShape(cfg Config) *QNet {
	stem := cfg.StemConvs()[1]
	q := &QNet{Config: cfg, Stem: QConv{In: 3, Out: stem.Out, K: stem.K, Stride: stem.Stride}}
	for _, spec := range cfg.Layout() {
		b := QBottleneck{Block: spec}
		if spec.HasDownsample {
			b.Downsample = &QConv{}
		}
		for j, c := range spec.Convs() {
			*b.convs()[j] = QConv{In: c.In, Out: c.Out, K: c.K, Stride: c.Stride}
		}
		q.Layers = append(q.Layers, b)
	}
	q.FC = QLinear{In: cfg.Features(), Out: cfg.Classes}
	return q
}

// Tensors lists every tensor of q's model file, in file order, bound to q's
// fields: the folded stem conv and its activation scales; for each block,
// its convs in Block.Convs order, each of the first three followed by the
// scales of the activation after it (Block.Acts); then the head. Conv
// tensors are NAME.weight ([Out][K][K][In] int8), NAME.scale and NAME.bias
// (float32 per output channel) with the conv's QName; activation scales are
// ActPrefix+Act.Name. Reading (weights) and writing walk this one list; q's
// shapes must be set (NewQNetShape).
func (q *QNet) Tensors() []QTensor {
	var ts []QTensor
	conv := func(name string, c *QConv) {
		ts = append(ts,
			QTensor{Name: name + ".weight", Shape: []int{c.Out, c.K, c.K, c.In}, I8: &c.Weight},
			QTensor{Name: name + ".scale", Shape: []int{c.Out}, F32: &c.Scale},
			QTensor{Name: name + ".bias", Shape: []int{c.Out}, F32: &c.Bias})
	}
	act := func(a Act, s *[]float32) {
		ts = append(ts, QTensor{Name: ActPrefix + a.Name, Shape: []int{a.Channels}, F32: s})
	}
	conv(StemName, &q.Stem)
	act(Act{StemName, q.Stem.Out}, &q.StemScale)
	for i := range q.Layers {
		b := &q.Layers[i]
		convs, acts, scales := b.convs(), b.Acts(), b.scales()
		for j, c := range b.Convs() {
			conv(c.QName, convs[j])
			if j < len(acts) {
				act(acts[j], scales[j])
			}
		}
	}
	ts = append(ts,
		QTensor{Name: HeadName + ".weight", Shape: []int{q.FC.Out, q.FC.In}, I8: &q.FC.Weight},
		QTensor{Name: HeadName + ".scale", Shape: []int{q.FC.Out}, F32: &q.FC.Scale},
		QTensor{Name: HeadName + ".bias", Shape: []int{q.FC.Out}, F32: &q.FC.Bias})
	return ts
}
