package model

import (
	"fmt"
	"math"

	"github.com/bagnetweb/bagnet/model/kernel"
)

// Map is a feature map (or an input image) in HWC order: Data[(y*W+x)*C+c].
type Map struct {
	H, W, C int
	Data    []float32
}

// NewMap allocates a zeroed h x w x c map.
func NewMap(h, w, c int) *Map { return &Map{H: h, W: w, C: c, Data: make([]float32, h*w*c)} }

// NormalizedInput turns h x w RGB bytes (HWC) into the float model input
// (x/255 - mean) / std, channel by channel.
func NormalizedInput(rgb []uint8, h, w int, mean, std [3]float32) *Map {
	m := NewMap(h, w, 3)
	for i, v := range rgb[:h*w*3] {
		c := i % 3
		m.Data[i] = (float32(v)/255 - mean[c]) / std[c]
	}
	return m
}

// Conv2d is a bias-free convolution with no padding (every BagNet conv).
// Weight is stored [Out][K][K][In] so that one output channel is one row of
// the GEMM's B matrix.
type Conv2d struct {
	In, Out, K, Stride int
	Weight             []float32
}

// newConv2d binds the state-dict tensor name+".weight" (PyTorch layout
// [Out][In][K][K]) and reorders it.
func newConv2d(sd StateDict, name string, stride int) (Conv2d, error) {
	t, ok := sd[name+".weight"]
	if !ok || len(t.Shape) != 4 || t.Shape[2] != t.Shape[3] {
		return Conv2d{}, fmt.Errorf("model: missing or malformed %s.weight", name)
	}
	c := Conv2d{Out: t.Shape[0], In: t.Shape[1], K: t.Shape[2], Stride: stride}
	c.Weight = OIHWtoOHWI(t.Data, c.Out, c.In, c.K)
	return c, nil
}

// OIHWtoOHWI reorders PyTorch conv weights to output-major, input-minor rows.
func OIHWtoOHWI(w []float32, out, in, k int) []float32 {
	r := make([]float32, len(w))
	for o := 0; o < out; o++ {
		for i := 0; i < in; i++ {
			for y := 0; y < k; y++ {
				for x := 0; x < k; x++ {
					r[((o*k+y)*k+x)*in+i] = w[((o*in+i)*k+y)*k+x]
				}
			}
		}
	}
	return r
}

// Forward applies the convolution.
func (c *Conv2d) Forward(k kernel.Kernels, x *Map) *Map {
	cols, oh, ow := im2col(x.Data, x.H, x.W, x.C, c.K, c.Stride)
	out := NewMap(oh, ow, c.Out)
	if oh*ow > 0 {
		k.F32(oh*ow, c.Out, c.K*c.K*c.In, cols, c.Weight, out.Data)
	}
	return out
}

// im2col gathers, for every output position of a k x k, stride s, unpadded
// convolution, its input window as one row (ky, kx, c order). For 1x1 stride
// 1 it returns x itself.
func im2col(x []float32, h, w, c, k, s int) ([]float32, int, int) {
	oh, ow := convOut(h, k, s), convOut(w, k, s)
	if k == 1 && s == 1 {
		return x, oh, ow
	}
	cols := make([]float32, oh*ow*k*k*c)
	row := k * c
	for oy := 0; oy < oh; oy++ {
		for ox := 0; ox < ow; ox++ {
			dst := cols[(oy*ow+ox)*k*row:]
			for ky := 0; ky < k; ky++ {
				src := ((oy*s+ky)*w + ox*s) * c
				copy(dst[ky*row:(ky+1)*row], x[src:src+row])
			}
		}
	}
	return cols, oh, ow
}

// BatchNorm2d in inference form: y = x*Scale + Shift per channel, with
// Scale = weight/sqrt(running_var+eps) and Shift = bias - running_mean*Scale.
type BatchNorm2d struct {
	Scale, Shift []float32
}

// BNEps is PyTorch's default BatchNorm epsilon.
const BNEps = 1e-5

func newBatchNorm2d(sd StateDict, name string) (BatchNorm2d, error) {
	get := func(f string) ([]float32, error) {
		t, ok := sd[name+"."+f]
		if !ok {
			return nil, fmt.Errorf("model: missing %s.%s", name, f)
		}
		return t.Data, nil
	}
	var v [4][]float32
	for i, f := range []string{"weight", "bias", "running_mean", "running_var"} {
		var err error
		if v[i], err = get(f); err != nil {
			return BatchNorm2d{}, err
		}
	}
	n := len(v[0])
	bn := BatchNorm2d{Scale: make([]float32, n), Shift: make([]float32, n)}
	for c := 0; c < n; c++ {
		s := float64(v[0][c]) / math.Sqrt(float64(v[3][c])+BNEps)
		bn.Scale[c] = float32(s)
		bn.Shift[c] = float32(float64(v[1][c]) - float64(v[2][c])*s)
	}
	return bn, nil
}

// Forward normalises x in place, then applies ReLU if relu is set.
func (b *BatchNorm2d) Forward(x *Map, relu bool) {
	c := x.C
	for i := 0; i < len(x.Data); i += c {
		px := x.Data[i : i+c]
		for j := range px {
			v := px[j]*b.Scale[j] + b.Shift[j]
			if relu && v < 0 {
				v = 0
			}
			px[j] = v
		}
	}
}

// Bottleneck is the ResNet block: 1x1 conv, BN, ReLU; kxk conv (stride,
// no padding), BN, ReLU; 1x1 conv to 4x planes, BN; plus the identity (through
// Downsample when shapes change) cropped at the bottom/right; ReLU.
type Bottleneck struct {
	Block               // its place in the layout
	Conv1, Conv2, Conv3 Conv2d
	BN1, BN2, BN3       BatchNorm2d
	Downsample          *Conv2d // nil: identity
	DownsampleBN        BatchNorm2d
}

func newBottleneck(sd StateDict, spec Block) (Bottleneck, error) {
	b := Bottleneck{Block: spec}
	convs, bns := []*Conv2d{&b.Conv1, &b.Conv2, &b.Conv3}, []*BatchNorm2d{&b.BN1, &b.BN2, &b.BN3}
	if spec.HasDownsample {
		b.Downsample = &Conv2d{}
		convs, bns = append(convs, b.Downsample), append(bns, &b.DownsampleBN)
	}
	for i, cv := range spec.Convs() {
		var err error
		if *convs[i], err = newConv2d(sd, cv.Name, cv.Stride); err != nil {
			return b, err
		}
		if *bns[i], err = newBatchNorm2d(sd, cv.BN); err != nil {
			return b, err
		}
	}
	return b, nil
}

// Forward runs the block; obs (may be nil) sees the two inner activations.
func (b *Bottleneck) Forward(k kernel.Kernels, x *Map, obs Observer) *Map {
	acts := b.Acts()
	out := b.Conv1.Forward(k, x)
	b.BN1.Forward(out, true)
	obs.see(acts[0].Name, out)
	out = b.Conv2.Forward(k, out)
	b.BN2.Forward(out, true)
	obs.see(acts[1].Name, out)
	out = b.Conv3.Forward(k, out)
	b.BN3.Forward(out, false)
	res := x
	if b.Downsample != nil {
		res = b.Downsample.Forward(k, x)
		b.DownsampleBN.Forward(res, false)
	}
	// The unpadded kxk conv shrinks the map: crop the identity bottom/right.
	for y := 0; y < out.H; y++ {
		o := out.Data[y*out.W*out.C : (y+1)*out.W*out.C]
		r := res.Data[y*res.W*res.C : y*res.W*res.C+out.W*out.C]
		for i := range o {
			if v := o[i] + r[i]; v > 0 {
				o[i] = v
			} else {
				o[i] = 0
			}
		}
	}
	return out
}

// Linear is the head: Weight is [Out][In].
type Linear struct {
	In, Out int
	Weight  []float32
	Bias    []float32
}

// Observer, when set, is shown every activation the int8 engine quantizes,
// by name ("stem", "layer1.0.conv1", "layer1.0.conv2", "layer1.0"). Calibration
// uses it. A nil Observer is valid.
type Observer func(name string, m *Map)

func (o Observer) see(name string, m *Map) {
	if o != nil {
		o(name, m)
	}
}

// Net is the float32 BagNet, its weights bound by state-dict name.
type Net struct {
	Config
	Conv1, Conv2 Conv2d // stem: 1x1 3->C, then 3x3 C->C
	BN1          BatchNorm2d
	Layers       []Bottleneck // in Config.Layout order
	FC           Linear
	Kernels      kernel.Kernels
	Observe      Observer
}

// NewNet builds the float network for cfg from a state dict, checking every
// tensor's presence and shape first.
func NewNet(cfg Config, sd StateDict) (*Net, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.CheckStateDict(sd); err != nil {
		return nil, err
	}
	n := &Net{Config: cfg, Kernels: kernel.Default()}
	var err error
	stem := cfg.StemConvs()
	if n.Conv1, err = newConv2d(sd, stem[0].Name, stem[0].Stride); err != nil {
		return nil, err
	}
	if n.Conv2, err = newConv2d(sd, stem[1].Name, stem[1].Stride); err != nil {
		return nil, err
	}
	if n.BN1, err = newBatchNorm2d(sd, stem[1].BN); err != nil {
		return nil, err
	}
	for _, spec := range cfg.Layout() {
		blk, err := newBottleneck(sd, spec)
		if err != nil {
			return nil, err
		}
		n.Layers = append(n.Layers, blk)
	}
	n.FC = Linear{In: cfg.Features(), Out: cfg.Classes, Weight: sd[HeadName+".weight"].Data, Bias: sd[HeadName+".bias"].Data}
	return n, nil
}

// Features runs everything up to the last feature map (H' x W' x Features).
func (n *Net) Features(x *Map) (*Map, error) {
	if x.C != 3 {
		return nil, fmt.Errorf("model: input has %d channels, want 3", x.C)
	}
	if h, w := n.MapSize(x.H, x.W); h == 0 || w == 0 {
		return nil, fmt.Errorf("model: %dx%d input is smaller than one %d-pixel patch", x.W, x.H, n.Patch())
	}
	k := n.Kernels
	out := n.Conv1.Forward(k, x)
	out = n.Conv2.Forward(k, out)
	n.BN1.Forward(out, true)
	n.Observe.see(StemName, out)
	for i := range n.Layers {
		b := &n.Layers[i]
		out = b.Forward(k, out, n.Observe)
		n.Observe.see(b.Acts()[2].Name, out)
	}
	return out, nil
}

// Logits applies the head to the mean of the feature map: the image logits.
func (n *Net) Logits(f *Map) []float32 {
	mean := make([]float64, f.C)
	for i, v := range f.Data {
		mean[i%f.C] += float64(v)
	}
	pooled := make([]float32, f.C)
	for c := range mean {
		pooled[c] = float32(mean[c] / float64(f.H*f.W))
	}
	logits := make([]float32, n.FC.Out)
	n.Kernels.F32(1, n.FC.Out, n.FC.In, pooled, n.FC.Weight, logits)
	for c := range logits {
		logits[c] += n.FC.Bias[c]
	}
	return logits
}

// Evidence is class c's patch-evidence map (H' x W', row-major): the head's
// weights applied at every position, without the bias. Its mean plus the
// bias is logit c.
func (n *Net) Evidence(f *Map, c int) []float32 {
	ev := make([]float32, f.H*f.W)
	n.Kernels.F32(f.H*f.W, 1, f.C, f.Data, n.FC.Weight[c*f.C:(c+1)*f.C], ev)
	return ev
}

// Forward is Features then Logits.
func (n *Net) Forward(x *Map) (logits []float32, features *Map, err error) {
	f, err := n.Features(x)
	if err != nil {
		return nil, nil, err
	}
	return n.Logits(f), f, nil
}
