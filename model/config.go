// Package model is the BagNet forward pass in pure Go: the architecture, a
// float32 reference network bound to PyTorch state-dict names, and a
// deterministic int8 engine. It builds for every GOOS/GOARCH, js/wasm included,
// and never touches syscall/js.
//
// BagNet (Brendel & Bethge, ICLR 2019) is a ResNet-50 whose 3x3 convolutions
// are mostly 1x1, so every unit of the last feature map sees only a q x q patch
// of the input (q = 9, 17 or 33). A linear head turns each patch into class
// evidence and the image's logits are the mean of that evidence: the evidence
// maps this package returns are the decision itself, not an approximation.
package model

import (
	"fmt"
	"github.com/bagnetweb/bagnet/geom"
	"math"
	"slices"
	"sort"
	"strings"
)

// Architecture facts shared by every BagNet: a ResNet-50 layout. They are
// unexported so that no importer can change them; Config.Layout is the
// table the rest of the code walks.
var (
	// stageBlocks is the number of Bottleneck blocks in each of the four stages.
	stageBlocks = [4]int{3, 4, 6, 3}
	// stageStrides is the stride of the first block of each stage.
	stageStrides = [4]int{2, 2, 2, 1}
)

// Expansion is the Bottleneck's output-channel multiplier.
const Expansion = 4

// Stride is the distance in input pixels between neighbouring cells of the
// last feature map (the product of the stage strides).
const Stride = 8

// kernel3 lists, per architecture, how many leading blocks of each stage use a
// 3x3 convolution (the rest use 1x1).
var kernel3 = map[string][4]int{
	"bagnet9":  {1, 1, 0, 0},
	"bagnet17": {1, 1, 1, 0},
	"bagnet33": {1, 1, 1, 1},
}

// ImageNetNorm is the input normalisation every BagNet is trained with
// (torchvision's ImageNet channel means and standard deviations).
func ImageNetNorm() (mean, std [3]float32) {
	return [3]float32{0.485, 0.456, 0.406}, [3]float32{0.229, 0.224, 0.225}
}

// Config fixes a BagNet: which patch size, how wide, how many classes.
type Config struct {
	Arch    string  // "bagnet9", "bagnet17" or "bagnet33"
	Width   float64 // channel multiplier; 1 is the authors' ImageNet width
	Classes int     // outputs of the linear head
}

// KnownArch reports whether arch names a BagNet ("bagnet9", "bagnet17" or
// "bagnet33").
func KnownArch(arch string) bool {
	_, ok := kernel3[arch]
	return ok
}

// Validate reports whether c names a buildable network.
func (c Config) Validate() error {
	if !KnownArch(c.Arch) {
		return fmt.Errorf("model: unknown architecture %q (want bagnet9, bagnet17 or bagnet33)", c.Arch)
	}
	if !(c.Width > 0 && c.Width <= 4) {
		return fmt.Errorf("model: width multiplier %v out of range (0, 4]", c.Width)
	}
	if c.Classes < 1 || c.Classes > 100000 {
		return fmt.Errorf("model: %d classes out of range [1, 100000]", c.Classes)
	}
	return nil
}

// ArchForKernel3 names the architecture with the given 3x3 block counts.
func ArchForKernel3(k [4]int) (string, error) {
	for name, kk := range kernel3 {
		if kk == k {
			return name, nil
		}
	}
	return "", fmt.Errorf("model: no BagNet has 3x3 blocks %v per stage", k)
}

// Patch is the receptive field q of one cell of the last map, in pixels.
func (c Config) Patch() int {
	q := 3 // conv2 of the stem
	jump := 1
	for s := 0; s < 4; s++ {
		if kernel3[c.Arch][s] > 0 {
			q += 2 * jump
		}
		jump *= stageStrides[s]
	}
	return q
}

// Channels returns the stem width and the planes of the four stages.
func (c Config) Channels() (stem int, planes [4]int) {
	r := func(n int) int { return max(1, int(math.Round(float64(n)*c.Width))) }
	stem = r(64)
	for s, p := range [4]int{64, 128, 256, 512} {
		planes[s] = r(p)
	}
	return stem, planes
}

// Features is the channel count of the last feature map (the head's input).
func (c Config) Features() int {
	_, p := c.Channels()
	return p[3] * Expansion
}

// BlockKernel is the kernel size of the middle conv of block b in stage s.
func (c Config) BlockKernel(s, b int) int {
	if kernel3[c.Arch][s] > b {
		return 3
	}
	return 1
}

// convOut is the output size of a conv with no padding.
func convOut(n, k, stride int) int {
	if n < k {
		return 0
	}
	return (n-k)/stride + 1
}

// MapSize is the size of the last feature map (the evidence map) for an
// h x w input. It is 0 x 0 when the input is smaller than one patch.
func (c Config) MapSize(h, w int) (int, int) {
	h, w = convOut(h, 3, 1), convOut(w, 3, 1)
	for s := 0; s < 4; s++ {
		k := c.BlockKernel(s, 0)
		h, w = convOut(h, k, stageStrides[s]), convOut(w, k, stageStrides[s])
	}
	return h, w
}

// CellBox is the receptive field of evidence-map cell (i, j) (row i, column j)
// in model-input pixels: [8j, 8j+q) x [8i, 8i+q).
func (c Config) CellBox(i, j int) geom.Rect[int] {
	q := c.Patch()
	return geom.Cell(i, j, Stride, q)
}

// Block is one Bottleneck of the network. Layout lists them: the one table of
// the ResNet layout that building, counting, quantising, packing, reading
// and writing the network all walk.
type Block struct {
	Name          string // state-dict prefix, "layer2.0"
	Stage, Index  int    // stage 0-3, block within the stage
	In, Planes    int    // input channels and inner planes; the output has Planes*Expansion
	K, Stride     int    // conv2's kernel and the block's stride
	HasDownsample bool   // a 1x1 conv (and BN) on the residual path
}

// Out is the block's output channels.
func (b Block) Out() int { return b.Planes * Expansion }

// StemName names the stem's quantised activation and, in an int8 model
// file, its folded conv (normalisation, conv1, conv2 and bn1 in one).
const StemName = "stem"

// ActPrefix starts the names of an int8 model file's activation scales
// ("act.layer1.0.conv1").
const ActPrefix = "act."

// HeadName is the linear head's state-dict and model-file prefix.
const HeadName = "fc"

// Conv is one convolution of the network: its names and shape.
type Conv struct {
	Name               string // state-dict prefix in the float network
	QName              string // name in an int8 model file (its BN folded in)
	In, Out, K, Stride int
	BN                 string // its BatchNorm's prefix
}

// Convs are the block's convolutions in order: conv1, conv2, conv3 and,
// when it has one, the downsample conv. This is the one table of the
// block's layer names.
func (b Block) Convs() []Conv {
	cs := []Conv{
		{Name: b.Name + ".conv1", QName: b.Name + ".conv1", In: b.In, Out: b.Planes, K: 1, Stride: 1, BN: b.Name + ".bn1"},
		{Name: b.Name + ".conv2", QName: b.Name + ".conv2", In: b.Planes, Out: b.Planes, K: b.K, Stride: b.Stride, BN: b.Name + ".bn2"},
		{Name: b.Name + ".conv3", QName: b.Name + ".conv3", In: b.Planes, Out: b.Out(), K: 1, Stride: 1, BN: b.Name + ".bn3"},
	}
	if b.HasDownsample {
		cs = append(cs, Conv{Name: b.Name + ".downsample.0", QName: b.Name + ".downsample",
			In: b.In, Out: b.Out(), K: 1, Stride: b.Stride, BN: b.Name + ".downsample.1"})
	}
	return cs
}

// Act is an activation the int8 network quantises: its name (what the
// calibration Observer sees, and "act."+Name in an int8 model file) and
// its channels.
type Act struct {
	Name     string
	Channels int
}

// Acts are the block's quantised activations in order: after conv1, after
// conv2 (each follows the conv of the same index in Convs) and the block's
// output, after the residual sum.
func (b Block) Acts() [3]Act {
	return [3]Act{{b.Name + ".conv1", b.Planes}, {b.Name + ".conv2", b.Planes}, {b.Name, b.Out()}}
}

// StemConvs are the stem's 1x1 conv1 and 3x3 conv2 (bn1 follows conv2).
func (c Config) StemConvs() [2]Conv {
	stem, _ := c.Channels()
	return [2]Conv{{Name: "conv1", In: 3, Out: stem, K: 1, Stride: 1}, {Name: "conv2", In: stem, Out: stem, K: 3, Stride: 1, BN: "bn1"}}
}

// Layout lists the network's Bottleneck blocks in order.
func (c Config) Layout() []Block {
	stem, planes := c.Channels()
	var bs []Block
	in := stem
	for s := 0; s < 4; s++ {
		for i := 0; i < stageBlocks[s]; i++ {
			b := Block{Name: fmt.Sprintf("layer%d.%d", s+1, i), Stage: s, Index: i, In: in, Planes: planes[s],
				K: c.BlockKernel(s, i), Stride: 1}
			if i == 0 {
				b.Stride = stageStrides[s]
			}
			b.HasDownsample = i == 0 && (b.Stride != 1 || in != b.Out())
			bs = append(bs, b)
			in = b.Out()
		}
	}
	return bs
}

// Param is one tensor of the PyTorch state dict.
type Param struct {
	Name  string
	Shape []int
}

// Params lists every tensor of the network's state dict (num_batches_tracked
// excluded) with its shape, in a fixed order.
func (c Config) Params() []Param {
	var ps []Param
	conv := func(cv Conv) {
		ps = append(ps, Param{cv.Name + ".weight", []int{cv.Out, cv.In, cv.K, cv.K}})
		if cv.BN != "" {
			for _, f := range []string{"weight", "bias", "running_mean", "running_var"} {
				ps = append(ps, Param{cv.BN + "." + f, []int{cv.Out}})
			}
		}
	}
	for _, cv := range c.StemConvs() {
		conv(cv)
	}
	for _, b := range c.Layout() {
		for _, cv := range b.Convs() {
			conv(cv)
		}
	}
	ps = append(ps, Param{HeadName + ".weight", []int{c.Classes, c.Features()}}, Param{HeadName + ".bias", []int{c.Classes}})
	return ps
}

// NumParams counts the learned parameters (BN running statistics excluded).
func (c Config) NumParams() int64 {
	var n int64
	for _, p := range c.Params() {
		if strings.HasSuffix(p.Name, "running_mean") || strings.HasSuffix(p.Name, "running_var") {
			continue
		}
		n += int64(prod(p.Shape))
	}
	return n
}

// MACs counts the multiply-accumulates of one forward pass on an h x w input:
// every convolution plus the linear head applied once to the pooled features.
func (c Config) MACs(h, w int) int64 {
	var macs int64
	add := func(oh, ow int, cv Conv) { macs += int64(oh) * int64(ow) * int64(cv.In*cv.Out*cv.K*cv.K) }
	st := c.StemConvs()
	add(h, w, st[0])
	h, w = convOut(h, 3, 1), convOut(w, 3, 1)
	add(h, w, st[1])
	for _, b := range c.Layout() {
		oh, ow := convOut(h, b.K, b.Stride), convOut(w, b.K, b.Stride)
		cs := b.Convs()
		add(h, w, cs[0])
		add(oh, ow, cs[1])
		add(oh, ow, cs[2])
		if b.HasDownsample { // the authors' code computes it at every strided position
			add((h+b.Stride-1)/b.Stride, (w+b.Stride-1)/b.Stride, cs[3])
		}
		h, w = oh, ow
	}
	return macs + int64(c.Features()*c.Classes)
}

// DetectConfig infers the architecture, width and class count from a state
// dict's shapes and checks every tensor against them. It names the first
// missing, unexpected or misshapen tensor.
func DetectConfig(sd StateDict) (Config, error) {
	w, ok := sd["conv1.weight"]
	if !ok {
		return Config{}, fmt.Errorf("model: state dict has no conv1.weight: not a BagNet checkpoint")
	}
	if len(w.Shape) != 4 || w.Shape[1] != 3 || w.Shape[2] != 1 || w.Shape[3] != 1 {
		return Config{}, fmt.Errorf("model: conv1.weight has shape %v, want [C 3 1 1]: not a BagNet checkpoint", w.Shape)
	}
	fc, ok := sd[HeadName+".weight"]
	if !ok || len(fc.Shape) != 2 {
		return Config{}, fmt.Errorf("model: state dict has no 2-d fc.weight: not a BagNet checkpoint")
	}
	var k3 [4]int
	for s := 0; s < 4; s++ {
		for b := 0; b < stageBlocks[s]; b++ {
			t, ok := sd[fmt.Sprintf("layer%d.%d.conv2.weight", s+1, b)]
			if !ok || len(t.Shape) != 4 {
				return Config{}, fmt.Errorf("model: state dict has no 4-d layer%d.%d.conv2.weight: not a BagNet checkpoint", s+1, b)
			}
			if t.Shape[2] == 3 && k3[s] == b {
				k3[s]++
			}
		}
	}
	arch, err := ArchForKernel3(k3)
	if err != nil {
		return Config{}, err
	}
	cfg := Config{Arch: arch, Width: float64(w.Shape[0]) / 64, Classes: fc.Shape[0]}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	if err := cfg.CheckStateDict(sd); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// CheckStateDict verifies that sd holds exactly the tensors of c with the
// right shapes (num_batches_tracked entries are allowed and ignored).
func (c Config) CheckStateDict(sd StateDict) error {
	want := map[string]bool{}
	for _, p := range c.Params() {
		want[p.Name] = true
		t, ok := sd[p.Name]
		if !ok {
			return fmt.Errorf("model: %s %s: missing tensor %s", c.Arch, c.widthString(), p.Name)
		}
		if !slices.Equal(t.Shape, p.Shape) {
			return fmt.Errorf("model: %s %s: tensor %s has shape %v, want %v", c.Arch, c.widthString(), p.Name, t.Shape, p.Shape)
		}
		if len(t.Data) != prod(p.Shape) {
			return fmt.Errorf("model: tensor %s holds %d values, shape %v needs %d", p.Name, len(t.Data), t.Shape, prod(p.Shape))
		}
	}
	var extra []string
	for name := range sd {
		if !want[name] && !strings.HasSuffix(name, "num_batches_tracked") {
			extra = append(extra, name)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return fmt.Errorf("model: %s %s: unexpected tensor %s", c.Arch, c.widthString(), extra[0])
	}
	return nil
}

func (c Config) widthString() string { return fmt.Sprintf("width %g", c.Width) }

func prod(s []int) int {
	n := 1
	for _, v := range s {
		n *= v
	}
	return n
}
