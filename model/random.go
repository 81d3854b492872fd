package model

import (
	"math"
	"math/rand/v2"
	"strings"
)

// RandomStateDict makes a state dict for cfg with He-initialised convs and
// non-trivial BN statistics, for tests and benchmarks. The same seed gives
// the same weights.
func RandomStateDict(cfg Config, seed uint64) StateDict {
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	sd := StateDict{}
	for _, p := range cfg.Params() {
		t := &Tensor{Shape: p.Shape, Data: make([]float32, prod(p.Shape))}
		switch {
		case len(p.Shape) == 4 || p.Name == HeadName+".weight":
			fan := prod(p.Shape[1:])
			std := math.Sqrt(2 / float64(fan))
			for i := range t.Data {
				t.Data[i] = float32(r.NormFloat64() * std)
			}
		case strings.HasSuffix(p.Name, "running_var"):
			for i := range t.Data {
				t.Data[i] = float32(0.5 + r.Float64())
			}
		case strings.HasSuffix(p.Name, "running_mean"), strings.HasSuffix(p.Name, ".bias"):
			for i := range t.Data {
				t.Data[i] = float32(0.2 * r.NormFloat64())
			}
		default: // BN weight
			for i := range t.Data {
				t.Data[i] = float32(0.5 + 0.5*r.Float64())
			}
		}
		sd[p.Name] = t
	}
	return sd
}

// RandomRGB makes h x w random RGB bytes (HWC), for tests and benchmarks.
func RandomRGB(h, w int, seed uint64) []uint8 {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]uint8, h*w*3)
	for i := range b {
		b[i] = uint8(r.IntN(256))
	}
	return b
}

// RandomQNet makes an int8 network for cfg from RandomStateDict(cfg, seed),
// calibrated on calib random size x size images, for tests and benchmarks.
func RandomQNet(cfg Config, seed uint64, size, calib int) (*QNet, error) {
	n, err := NewNet(cfg, RandomStateDict(cfg, seed))
	if err != nil {
		return nil, err
	}
	mean, std := ImageNetNorm()
	var cal Calibrator
	n.Observe = cal.Observer()
	for s := 0; s < calib; s++ {
		if _, _, err := n.Forward(NormalizedInput(RandomRGB(size, size, uint64(s)), size, size, mean, std)); err != nil {
			return nil, err
		}
	}
	return Quantize(n, mean, std, cal.Scales())
}
