package model

import (
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/bagnetweb/bagnet/model/kernel"
)

// The int8 engine. Weights are symmetric int8 per output channel with BN
// folded in; activations are uint8 (every quantized activation follows a
// ReLU) with scales from calibration; products accumulate in int32.
// Activation scales are per channel: a conv's input scales are folded into
// its weights before they are quantized (W'[o][k] = W[o][k] * s_in[k]), so a
// per-channel scale costs nothing at run time and each channel uses all of
// its 8 bits (per-tensor scales lose the small channels of a layer). Requantisation uses only integer arithmetic (a 31-bit fixed-point
// multiplier and a shift per channel), so the same image gives bit-identical
// results on every platform, js/wasm included. The input normalisation, the
// 1x1 conv1 and the 3x3 conv2 of the stem are linear with no padding between
// them, so they fold exactly into one 3x3 conv on the raw RGB bytes.

// QMap is a uint8 feature map in HWC order; real value = Data * Scale[channel].
type QMap struct {
	H, W, C int
	Data    []uint8
	Scale   []float32 // per channel
}

// maxBiasQ bounds quantized biases so accumulator + bias stays below 2^31.
const maxBiasQ = 1 << 30

// QConv is an int8 convolution with BN and the input's activation scales
// folded in: out[o] = (W·q)[o]*Scale[o] + Bias[o] for uint8 inputs q.
type QConv struct {
	In, Out, K, Stride int
	Weight             []int8    // [Out][K][K][In]
	Scale              []float32 // per output channel: the real value of one accumulator unit
	Bias               []float32 // per output channel

	requant *kernel.Requant  // accumulator units -> output units, bias included
	packed  *kernel.PackedI8 // Weight in the kernels' layout
	kpad    int              // GEMM inner size: K*K*In, for KxK convs rounded up to a multiple of 8
}

// pack prepares the weights for the kernels (once, at load). The im2col
// rows of a KxK conv are zero-padded to a multiple of 8 (the stem's 27
// inputs become 32), with zero weights, so the SIMD kernel has no scalar
// tail; the sums are the same.
func (c *QConv) pack(k kernel.Kernels) {
	n := c.K * c.K * c.In
	c.kpad = n
	w := c.Weight
	if c.K > 1 && n%8 != 0 {
		c.kpad = (n + 7) / 8 * 8
		w = make([]int8, c.Out*c.kpad)
		for o := 0; o < c.Out; o++ {
			copy(w[o*c.kpad:], c.Weight[o*n:(o+1)*n])
		}
	}
	c.packed = k.PackI8(c.Out, c.kpad, w)
}

// prepare derives the integer requantisation for the output's scales.
func (c *QConv) prepare(outScale []float32) {
	bias, mult := make([]int64, c.Out), make([]float64, c.Out)
	for o := 0; o < c.Out; o++ {
		acc := float64(c.Scale[o]) // one accumulator unit
		b := math.Round(float64(c.Bias[o]) / acc)
		bias[o] = int64(math.Max(-maxBiasQ, math.Min(maxBiasQ, b)))
		mult[o] = acc / float64(outScale[o])
	}
	c.requant = kernel.NewRequant(bias, mult, c.K*c.K*c.In)
}

// accumulate runs the GEMM on x into the scratch accumulators.
func (c *QConv) accumulate(k kernel.Kernels, sc *scratch, x *QMap) ([]int32, int, int) {
	cols, oh, ow := im2colU8(&sc.cols, x.Data, x.H, x.W, x.C, c.K, c.Stride, c.kpad)
	acc := grow(&sc.acc, oh*ow*c.Out)
	if oh*ow > 0 {
		k.U8I8(oh*ow, cols, c.packed, acc)
	}
	return acc, oh, ow
}

// Forward is conv, bias, ReLU, requantised to outScale (set by prepare),
// written into dst.
func (c *QConv) Forward(k kernel.Kernels, sc *scratch, x *QMap, outScale []float32, dst *[]uint8) *QMap {
	acc, oh, ow := c.accumulate(k, sc, x)
	out := &QMap{H: oh, W: ow, C: c.Out, Data: grow(dst, len(acc)), Scale: outScale}
	k.Requant(oh*ow, acc, c.requant, nil, nil, nil, out.Data)
	return out
}

// QBottleneck is the int8 Bottleneck. Scale1, Scale2 and OutScale are the
// per-channel scales of conv1's, conv2's and the block's outputs.
type QBottleneck struct {
	Block               // its place in the layout
	Conv1, Conv2, Conv3 QConv
	Downsample          *QConv // nil: identity
	Scale1, Scale2      []float32
	OutScale            []float32

	identity *kernel.Requant // input units -> output units per channel (identity path)
}

func (b *QBottleneck) prepare(inScale []float32) {
	b.Conv1.prepare(b.Scale1)
	b.Conv2.prepare(b.Scale2)
	b.Conv3.prepare(b.OutScale)
	if b.Downsample != nil {
		b.Downsample.prepare(b.OutScale)
	} else {
		mult := make([]float64, len(inScale))
		for c := range inScale {
			mult[c] = float64(inScale[c]) / float64(b.OutScale[c])
		}
		b.identity = kernel.NewRequant(nil, mult, 1)
	}
}

// Forward runs the block on x (held in bufs[0]), writing the block's output
// into bufs[1] (conv1's output, dead by then); conv2's output goes to
// bufs[2]. The residual sum is formed from the conv3 and downsample
// accumulators directly (neither is rounded to 8 bits first), and only at
// the positions the unpadded conv2 leaves (the top-left oh x ow of the
// stride grid), as the authors crop the residual.
func (b *QBottleneck) Forward(k kernel.Kernels, sc *scratch, x *QMap, bufs [3]*[]uint8) *QMap {
	h := b.Conv1.Forward(k, sc, x, b.Scale1, bufs[1])
	h = b.Conv2.Forward(k, sc, h, b.Scale2, bufs[2])
	acc, oh, ow := b.Conv3.accumulate(k, sc, h)
	// The residual's input: x at the positions (y*s, x*s), y < oh, x < ow.
	stride := 1
	if b.Downsample != nil {
		stride = b.Downsample.Stride
	}
	rx := x.Data
	if stride != 1 || ow != x.W || oh != x.H {
		rx = subsample(&sc.gather, x.Data, x.W, x.C, stride, oh, ow)
	}
	out := &QMap{H: oh, W: ow, C: b.Conv3.Out, Scale: b.OutScale}
	if b.Downsample != nil {
		res := grow(&sc.res, oh*ow*b.Downsample.Out)
		k.U8I8(oh*ow, rx, b.Downsample.packed, res)
		out.Data = grow(bufs[1], len(acc))
		k.Requant(oh*ow, acc, b.Conv3.requant, res, nil, b.Downsample.requant, out.Data)
	} else {
		out.Data = grow(bufs[1], len(acc))
		k.Requant(oh*ow, acc, b.Conv3.requant, nil, rx, b.identity, out.Data)
	}
	return out
}

// getScratch takes the buffers of a finished pass, or new ones. (A
// sync.Pool would drop them at every garbage collection, and a pass of the
// full-size network needs about 30 MB of them.)
func (q *QNet) getScratch() *scratch {
	q.mu.Lock()
	defer q.mu.Unlock()
	if n := len(q.free); n > 0 {
		sc := q.free[n-1]
		q.free = q.free[:n-1]
		return sc
	}
	return &scratch{}
}

func (q *QNet) putScratch(sc *scratch) {
	q.mu.Lock()
	q.free = append(q.free, sc)
	q.mu.Unlock()
}

// scales are the block's activation scales in Block.Acts order.
func (b *QBottleneck) scales() [3]*[]float32 {
	return [3]*[]float32{&b.Scale1, &b.Scale2, &b.OutScale}
}

// convs are the block's convolutions in Block.Convs order.
func (b *QBottleneck) convs() []*QConv {
	cs := []*QConv{&b.Conv1, &b.Conv2, &b.Conv3}
	if b.Downsample != nil {
		cs = append(cs, b.Downsample)
	}
	return cs
}

// scratch holds one forward pass's buffers, reused layer after layer and
// pass after pass (QNet keeps those of finished passes).
type scratch struct {
	cols, gather []uint8
	maps         [3][]uint8
	acc, res     []int32
}

// grow returns (*b)[:n], reallocating only when it is too small.
func grow[T any](b *[]T, n int) []T {
	if cap(*b) < n {
		*b = make([]T, n)
	}
	return (*b)[:n]
}

// im2colU8 is im2col into a reused buffer, rows of kpad >= k*k*c bytes
// (zero-padded); x itself for 1x1 stride-1 convs.
func im2colU8(dst *[]uint8, x []uint8, h, w, c, k, s, kpad int) ([]uint8, int, int) {
	oh, ow := convOut(h, k, s), convOut(w, k, s)
	if k == 1 && s == 1 {
		return x, oh, ow
	}
	cols := grow(dst, oh*ow*kpad)
	row := k * c
	for oy := 0; oy < oh; oy++ {
		for ox := 0; ox < ow; ox++ {
			d := cols[(oy*ow+ox)*kpad : (oy*ow+ox+1)*kpad]
			for ky := 0; ky < k; ky++ {
				src := ((oy*s+ky)*w + ox*s) * c
				copy(d[ky*row:(ky+1)*row], x[src:src+row])
			}
			clear(d[k*row:])
		}
	}
	return cols, oh, ow
}

// subsample gathers the c channels of x (w wide) at positions (y*s, x*s)
// for y < oh, x < ow.
func subsample(dst *[]uint8, x []uint8, w, c, s, oh, ow int) []uint8 {
	out := grow(dst, oh*ow*c)
	for y := 0; y < oh; y++ {
		for xx := 0; xx < ow; xx++ {
			src := ((y*s)*w + xx*s) * c
			copy(out[(y*ow+xx)*c:(y*ow+xx+1)*c], x[src:src+c])
		}
	}
	return out
}

// QLinear is the int8 head with the feature map's scales folded in:
// evidence = (W·f)*Scale[c] for uint8 features f, plus Bias for logits.
type QLinear struct {
	In, Out int
	Weight  []int8 // [Out][In]
	Scale   []float32
	Bias    []float32
}

// QNet is the int8 BagNet. Its input is raw RGB bytes.
type QNet struct {
	Config
	Stem      QConv         // normalisation + conv1 + conv2 + bn1, on raw RGB (scale 1)
	StemScale []float32     // per-channel scale of the stem's output
	Layers    []QBottleneck // in Config.Layout order
	FC        QLinear
	// kernels run the GEMMs (kernel.Default() when nil at Prepare). Change
	// them with UseKernels, which re-packs the weights for the new kernels.
	kernels kernel.Kernels
	packed  kernel.Kernels // the kernels the weights are packed for
	mu      sync.Mutex
	free    []*scratch // buffers of finished passes, for the next ones
}

// Kernels are the kernels the network runs on.
func (q *QNet) Kernels() kernel.Kernels { return q.kernels }

// UseKernels makes the network run on k, packing its weights for k.
func (q *QNet) UseKernels(k kernel.Kernels) {
	q.kernels = k
	q.Stem.pack(k)
	for i := range q.Layers {
		for _, c := range q.Layers[i].convs() {
			c.pack(k)
		}
	}
	q.packed = k
}

// Prepare checks the network's tensors and scales and derives the integer
// requantisation. Call it after building or loading a QNet.
func (q *QNet) Prepare() error {
	if err := q.Config.Validate(); err != nil {
		return err
	}
	if q.kernels == nil {
		q.kernels = kernel.Default()
	}
	check := func(name string, c *QConv) error {
		if len(c.Weight) != c.Out*c.K*c.K*c.In || len(c.Scale) != c.Out || len(c.Bias) != c.Out {
			return fmt.Errorf("model: int8 %s: tensor sizes do not match %dx%dx%dx%d", name, c.Out, c.K, c.K, c.In)
		}
		for o := 0; o < c.Out; o++ {
			if !finitePos(c.Scale[o]) || math.IsNaN(float64(c.Bias[o])) || math.IsInf(float64(c.Bias[o]), 0) {
				return fmt.Errorf("model: int8 %s: channel %d has scale %v, bias %v", name, o, c.Scale[o], c.Bias[o])
			}
		}
		return nil
	}
	if err := check(StemName, &q.Stem); err != nil {
		return err
	}
	scales := map[string][]float32{StemName: q.StemScale}
	want := map[string]int{StemName: q.Stem.Out}
	layout := q.Layout()
	if len(q.Layers) != len(layout) {
		return fmt.Errorf("model: int8 %s has %d blocks, want %d", q.Arch, len(q.Layers), len(layout))
	}
	for i, spec := range layout {
		b := &q.Layers[i]
		if b.Block != spec {
			return fmt.Errorf("model: int8 block %d is %+v, the layout says %+v", i, b.Block, spec)
		}
		n := spec.Name
		for j, a := range spec.Acts() {
			scales[a.Name], want[a.Name] = *b.scales()[j], a.Channels
		}
		cs, specs := b.convs(), spec.Convs()
		if len(cs) != len(specs) {
			return fmt.Errorf("model: int8 %s: downsample conv present %v, want %v", n, b.Downsample != nil, spec.HasDownsample)
		}
		for j, c := range cs {
			if w := specs[j]; c.In != w.In || c.Out != w.Out || c.K != w.K || c.Stride != w.Stride {
				return fmt.Errorf("model: int8 %s is %dx%dx%d/%d, want %dx%dx%d/%d", w.Name, c.Out, c.K, c.In, c.Stride, w.Out, w.K, w.In, w.Stride)
			}
			if err := check(specs[j].Name, c); err != nil {
				return err
			}
		}
	}
	for _, n := range sortedNames(scales) {
		s := scales[n]
		if len(s) != want[n] {
			return fmt.Errorf("model: int8 activation scale %s has %d channels, want %d", n, len(s), want[n])
		}
		for c, v := range s {
			if !finitePos(v) {
				return fmt.Errorf("model: int8 activation scale %s channel %d is %v", n, c, v)
			}
		}
	}
	if len(q.FC.Weight) != q.FC.In*q.FC.Out || len(q.FC.Scale) != q.FC.Out || len(q.FC.Bias) != q.FC.Out {
		return fmt.Errorf("model: int8 fc: tensor sizes do not match %dx%d", q.FC.Out, q.FC.In)
	}
	// The head's evidence is an accumulator of In products of a uint8 and
	// an int8 times the class's scale, and a logit is the mean evidence
	// plus the bias: bounding both terms by a quarter of the float32 range
	// keeps every evidence value and logit finite.
	const headLimit = math.MaxFloat32 / 4
	maxAcc := 255 * 128 * float64(q.FC.In)
	for c := 0; c < q.FC.Out; c++ {
		s, b := q.FC.Scale[c], q.FC.Bias[c]
		switch {
		case !finitePos(s):
			return fmt.Errorf("model: int8 fc.scale of class %d is %v, want a positive finite number", c, s)
		case math.IsNaN(float64(b)) || math.IsInf(float64(b), 0):
			return fmt.Errorf("model: int8 fc.bias of class %d is %v, want a finite number", c, b)
		case float64(s)*maxAcc > headLimit:
			return fmt.Errorf("model: int8 fc.scale of class %d is %v: evidence could reach %.3g, beyond float32", c, s, float64(s)*maxAcc)
		case math.Abs(float64(b)) > headLimit:
			return fmt.Errorf("model: int8 fc.bias of class %d is %v, beyond the %.3g the logits allow", c, b, float64(headLimit))
		}
	}
	q.Stem.prepare(q.StemScale)
	in := q.StemScale
	for i := range q.Layers {
		q.Layers[i].prepare(in)
		in = q.Layers[i].OutScale
	}
	q.UseKernels(q.kernels)
	return nil
}

func finitePos(s float32) bool { return s > 0 && !math.IsInf(float64(s), 0) }

// Features runs the int8 network on h x w raw RGB bytes (HWC) up to the last
// feature map.
func (q *QNet) Features(rgb []uint8, h, w int) (*QMap, error) {
	if len(rgb) != h*w*3 {
		return nil, fmt.Errorf("model: %d bytes is not a %dx%d RGB image", len(rgb), w, h)
	}
	if mh, mw := q.MapSize(h, w); mh == 0 || mw == 0 {
		return nil, fmt.Errorf("model: %dx%d input is smaller than one %d-pixel patch", w, h, q.Patch())
	}
	if q.packed != q.kernels {
		return nil, fmt.Errorf("model: int8 Kernels changed after Prepare: set them with UseKernels")
	}
	sc := q.getScratch()
	defer q.putScratch(sc)
	// Activations rotate through three buffers: a block reads its input
	// from one and writes its output into the next.
	cur := 0
	buf := func(i int) *[]uint8 { return &sc.maps[(cur+i)%3] }
	x := &QMap{H: h, W: w, C: 3, Data: rgb, Scale: []float32{1, 1, 1}}
	x = q.Stem.Forward(q.kernels, sc, x, q.StemScale, buf(0))
	for i := range q.Layers {
		x = q.Layers[i].Forward(q.kernels, sc, x, [3]*[]uint8{buf(0), buf(1), buf(2)})
		cur = (cur + 1) % 3
	}
	x.Data = slices.Clone(x.Data) // the caller keeps it; the buffers go back to the pool
	return x, nil
}

// Logits are the image logits: the head on the mean feature, computed as
// exact integer sums and one float64 scaling per class. They equal the mean
// of every class's Evidence map plus its bias.
func (q *QNet) Logits(f *QMap) []float32 {
	sum := make([]int64, f.C) // per channel, over all positions
	for i, v := range f.Data {
		sum[i%f.C] += int64(v)
	}
	n := float64(f.H * f.W)
	logits := make([]float32, q.FC.Out)
	for c := range logits {
		w := q.FC.Weight[c*f.C : (c+1)*f.C]
		var acc int64
		for k, s := range sum {
			acc += int64(w[k]) * s
		}
		logits[c] = float32(float64(float64(acc)*float64(q.FC.Scale[c]))/n + float64(q.FC.Bias[c]))
	}
	return logits
}

// Evidence is class c's patch-evidence map (H' x W', row-major, no bias).
func (q *QNet) Evidence(f *QMap, c int) []float32 {
	w := q.FC.Weight[c*f.C : (c+1)*f.C]
	acc := make([]int32, f.H*f.W)
	q.kernels.U8I8(f.H*f.W, f.Data, q.kernels.PackI8(1, f.C, w), acc)
	unit := float64(q.FC.Scale[c])
	ev := make([]float32, len(acc))
	for i, a := range acc {
		ev[i] = float32(float64(a) * unit)
	}
	return ev
}

// EvidenceAll is every class's Evidence map (out[c] is class c's), bit
// for bit, in one GEMM over all classes instead of one per class: what a
// model with many classes needs when every map is wanted.
func (q *QNet) EvidenceAll(f *QMap) [][]float32 {
	n, cells := q.FC.Out, f.H*f.W
	acc := make([]int32, cells*n)
	q.kernels.U8I8(cells, f.Data, q.kernels.PackI8(n, f.C, q.FC.Weight[:n*f.C]), acc)
	out := make([][]float32, n)
	for c := range out {
		unit := float64(q.FC.Scale[c])
		ev := make([]float32, cells)
		for i := range ev {
			ev[i] = float32(float64(acc[i*n+c]) * unit)
		}
		out[c] = ev
	}
	return out
}

// Dequantize returns the real-valued feature map.
func (m *QMap) Dequantize() *Map {
	r := NewMap(m.H, m.W, m.C)
	for i, v := range m.Data {
		r.Data[i] = float32(v) * m.Scale[i%m.C]
	}
	return r
}

// BandInput is the model-input rows [y0, y1) that final-map rows [r0, r1)
// depend on: [Stride*r0, Stride*(r1-1)+Patch). The network has no padding
// and Stride is its total stride, so running it on those rows alone gives
// exactly rows [r0, r1) of the full map.
func (c Config) BandInput(r0, r1 int) (y0, y1 int) {
	return Stride * r0, Stride*(r1-1) + c.Patch()
}

// Bands splits a map of h rows into at most n bands of near-equal height,
// in order, each at least minRows rows (1 if smaller); fewer bands when h is
// too small.
func Bands(h, n, minRows int) [][2]int {
	minRows = max(minRows, 1)
	n = max(1, min(n, h/minRows))
	bands := make([][2]int, n)
	for i := range bands {
		bands[i] = [2]int{i * h / n, (i + 1) * h / n}
	}
	return bands
}

// FeatureRect is the block [r0, r1) x [c0, c1) of the final feature map of
// an h x w input, computed from the input pixels those cells see alone
// (BandInput on both axes): equal to that block of Features' map byte for
// byte, at a fraction of its cost when the block is small. It is what makes
// an edit of the image cost only the cells that see it.
func (q *QNet) FeatureRect(rgb []uint8, h, w, r0, r1, c0, c1 int) (*QMap, error) {
	mh, mw := q.MapSize(h, w)
	if r0 < 0 || r1 > mh || r0 >= r1 || c0 < 0 || c1 > mw || c0 >= c1 {
		return nil, fmt.Errorf("model: feature block rows [%d, %d) x columns [%d, %d) outside the %dx%d map", r0, r1, c0, c1, mh, mw)
	}
	if len(rgb) != h*w*3 {
		return nil, fmt.Errorf("model: %d bytes is not a %dx%d RGB image", len(rgb), w, h)
	}
	y0, y1 := q.BandInput(r0, r1)
	x0, x1 := q.BandInput(c0, c1)
	sub := make([]uint8, 0, (y1-y0)*(x1-x0)*3)
	for y := y0; y < y1; y++ {
		sub = append(sub, rgb[(y*w+x0)*3:(y*w+x1)*3]...)
	}
	return q.Features(sub, y1-y0, x1-x0)
}

// Paste copies block b (from FeatureRect) into m at rows from r0 and
// columns from c0.
func (m *QMap) Paste(b *QMap, r0, c0 int) error {
	if b.C != m.C || r0 < 0 || c0 < 0 || r0+b.H > m.H || c0+b.W > m.W || len(b.Data) != b.H*b.W*b.C {
		return fmt.Errorf("model: a %dx%dx%d block does not fit a %dx%dx%d map at (%d, %d)", b.H, b.W, b.C, m.H, m.W, m.C, r0, c0)
	}
	for i := 0; i < b.H; i++ {
		copy(m.Data[((r0+i)*m.W+c0)*m.C:((r0+i)*m.W+c0+b.W)*m.C], b.Data[i*b.W*b.C:(i+1)*b.W*b.C])
	}
	return nil
}

// JoinRows stacks bands of one feature map (in row order) into the map.
func JoinRows(bands []*QMap) (*QMap, error) {
	if len(bands) == 0 {
		return nil, fmt.Errorf("model: no bands to join")
	}
	out := &QMap{W: bands[0].W, C: bands[0].C, Scale: bands[0].Scale}
	for i, b := range bands {
		if b.W != out.W || b.C != out.C || len(b.Data) != b.H*b.W*b.C {
			return nil, fmt.Errorf("model: band %d is %dx%dx%d (%d bytes), want width %d and %d channels",
				i, b.H, b.W, b.C, len(b.Data), out.W, out.C)
		}
		out.H += b.H
	}
	out.Data = make([]uint8, 0, out.H*out.W*out.C)
	for _, b := range bands {
		out.Data = append(out.Data, b.Data...)
	}
	return out, nil
}
