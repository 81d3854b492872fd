package model

import (
	"fmt"
	"math"
	"sort"
)

// Quantize builds the int8 network from a float network, the input
// normalisation it was trained with and calibrated per-channel activation
// scales (by Observer name: "stem", "layer1.0.conv1", "layer1.0.conv2",
// "layer1.0", ...).
func Quantize(n *Net, mean, std [3]float32, act map[string][]float32) (*QNet, error) {
	get := func(name string, channels int) ([]float32, error) {
		s, ok := act[name]
		if !ok || len(s) != channels {
			return nil, fmt.Errorf("model: need %d activation scales for %s, have %d", channels, name, len(s))
		}
		for c, v := range s {
			if !finitePos(v) {
				return nil, fmt.Errorf("model: activation scale %s channel %d is %v", name, c, v)
			}
		}
		return s, nil
	}
	q := &QNet{Config: n.Config, kernels: n.Kernels}
	var err error
	if q.StemScale, err = get(StemName, n.Conv2.Out); err != nil {
		return nil, err
	}
	q.Stem = quantizeConv(foldStem(n, mean, std), []float32{1, 1, 1})
	in := q.StemScale
	for i := range n.Layers {
		b := &n.Layers[i]
		qb := QBottleneck{Block: b.Block}
		for j, a := range b.Acts() {
			if *qb.scales()[j], err = get(a.Name, a.Channels); err != nil {
				return nil, err
			}
		}
		qb.Conv1 = quantizeConv(foldBN(&b.Conv1, &b.BN1), in)
		qb.Conv2 = quantizeConv(foldBN(&b.Conv2, &b.BN2), qb.Scale1)
		qb.Conv3 = quantizeConv(foldBN(&b.Conv3, &b.BN3), qb.Scale2)
		if b.Downsample != nil {
			d := quantizeConv(foldBN(b.Downsample, &b.DownsampleBN), in)
			qb.Downsample = &d
		}
		q.Layers = append(q.Layers, qb)
		in = qb.OutScale
	}
	fc := n.FC
	q.FC = QLinear{In: fc.In, Out: fc.Out, Weight: make([]int8, len(fc.Weight)),
		Scale: make([]float32, fc.Out), Bias: append([]float32(nil), fc.Bias...)}
	for c := 0; c < fc.Out; c++ {
		row := make([]float64, fc.In)
		for k := range row {
			row[k] = float64(fc.Weight[c*fc.In+k]) * float64(in[k])
		}
		q.FC.Scale[c] = quantizeRow(row, q.FC.Weight[c*fc.In:(c+1)*fc.In])
	}
	if err := q.Prepare(); err != nil {
		return nil, err
	}
	return q, nil
}

// foldedConv is a conv with BN folded in, in float64: out = W·x + B.
type foldedConv struct {
	in, out, k, stride int
	w                  []float64 // [out][k][k][in]
	b                  []float64
}

func foldBN(c *Conv2d, bn *BatchNorm2d) foldedConv {
	f := foldedConv{in: c.In, out: c.Out, k: c.K, stride: c.Stride,
		w: make([]float64, len(c.Weight)), b: make([]float64, c.Out)}
	row := c.K * c.K * c.In
	for o := 0; o < c.Out; o++ {
		s := float64(bn.Scale[o])
		for i := 0; i < row; i++ {
			f.w[o*row+i] = float64(c.Weight[o*row+i]) * s
		}
		f.b[o] = float64(bn.Shift[o])
	}
	return f
}

// foldStem composes (x/255 - mean)/std, the 1x1 conv1, the 3x3 conv2 and bn1
// into one 3x3 conv on raw bytes. It is exact: there is no padding and no
// nonlinearity between them.
func foldStem(n *Net, mean, std [3]float32) foldedConv {
	c1, c2 := &n.Conv1, &n.Conv2
	mid, out := c1.Out, c2.Out
	f := foldedConv{in: 3, out: out, k: 3, stride: 1, w: make([]float64, out*9*3), b: make([]float64, out)}
	for o := 0; o < out; o++ {
		var bias float64
		for t := 0; t < 9; t++ { // kernel tap (ky*3+kx)
			for c := 0; c < 3; c++ {
				var w float64
				for j := 0; j < mid; j++ {
					w += float64(c2.Weight[(o*9+t)*mid+j]) * float64(c1.Weight[j*3+c])
				}
				f.w[(o*9+t)*3+c] = w / (255 * float64(std[c]))
				bias -= w * float64(mean[c]) / float64(std[c])
			}
		}
		s := float64(n.BN1.Scale[o])
		for i := 0; i < 27; i++ {
			f.w[o*27+i] *= s
		}
		f.b[o] = bias*s + float64(n.BN1.Shift[o])
	}
	return f
}

// quantizeConv folds the input's per-channel activation scales into the
// weights and makes per-output-channel symmetric int8 weights.
func quantizeConv(f foldedConv, inScale []float32) QConv {
	q := QConv{In: f.in, Out: f.out, K: f.k, Stride: f.stride, Weight: make([]int8, len(f.w)),
		Scale: make([]float32, f.out), Bias: make([]float32, f.out)}
	row := f.k * f.k * f.in
	w := make([]float64, row)
	for o := 0; o < f.out; o++ {
		for i := range w {
			w[i] = f.w[o*row+i] * float64(inScale[i%f.in])
		}
		q.Scale[o] = quantizeRow(w, q.Weight[o*row:(o+1)*row])
		q.Bias[o] = float32(f.b[o])
	}
	return q
}

// QuantizeRow quantises one row of a head or conv as Quantize does: it
// writes round(w/scale) into dst (len(w) values, clamped to [-127, 127])
// and returns the scale, max|w|/127 (1 for an all-zero row). It uses only
// exactly rounded operations, so it gives the same bytes on every platform.
func QuantizeRow(w []float64, dst []int8) float32 { return quantizeRow(w, dst) }

// quantizeRow writes round(w/scale) with scale = max|w|/127 and returns the
// scale (1 for an all-zero row, so scales are always positive).
func quantizeRow(w []float64, dst []int8) float32 {
	var m float64
	for _, v := range w {
		m = math.Max(m, math.Abs(v))
	}
	scale := float32(m / 127)
	if !(scale > 0) || math.IsInf(float64(scale), 0) {
		scale = 1
	}
	for i, v := range w {
		dst[i] = int8(math.Max(-127, math.Min(127, math.Round(v/float64(scale)))))
	}
	return scale
}

// Calibrator collects per-channel activation ranges from float forward
// passes. Attach Observer() to Net.Observe, run calibration images, then read
// Scales.
type Calibrator struct {
	max    map[string][]float32 // per channel, over every position and image
	images int
}

// Observer returns the hook to set as Net.Observe.
func (c *Calibrator) Observer() Observer {
	if c.max == nil {
		c.max = map[string][]float32{}
	}
	return func(name string, m *Map) {
		if name == StemName {
			c.images++
		}
		mx := c.max[name]
		if mx == nil {
			mx = make([]float32, m.C)
			c.max[name] = mx
		}
		for i := 0; i < len(m.Data); i += m.C {
			for ch, v := range m.Data[i : i+m.C] {
				if v > mx[ch] {
					mx[ch] = v
				}
			}
		}
	}
}

// Images is how many forward passes the calibrator has seen.
func (c *Calibrator) Images() int { return c.images }

// Scales gives each activation's per-channel uint8 scale: the largest value
// seen in that channel divided by 255. A channel that never fired (or barely
// did) gets 1/10^4 of the layer's largest range, which keeps every scale
// positive and the requantisation multipliers bounded.
func (c *Calibrator) Scales() map[string][]float32 {
	s := map[string][]float32{}
	for name, mx := range c.max {
		var top float32
		for _, v := range mx {
			top = max(top, v)
		}
		if top <= 0 {
			top = 1
		}
		sc := make([]float32, len(mx))
		for ch, v := range mx {
			sc[ch] = max(v, top*1e-4) / 255
		}
		s[name] = sc
	}
	return s
}

// sortedNames lists map keys in order (for stable output).
func sortedNames[V any](m map[string]V) []string {
	r := make([]string, 0, len(m))
	for k := range m {
		r = append(r, k)
	}
	sort.Strings(r)
	return r
}
