package model

import (
	"math"
	"math/rand/v2"
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
		case len(p.Shape) == 4 || p.Name == "fc.weight":
			fan := prod(p.Shape[1:])
			std := math.Sqrt(2 / float64(fan))
			for i := range t.Data {
				t.Data[i] = float32(r.NormFloat64() * std)
			}
		case hasSuffix(p.Name, "running_var"):
			for i := range t.Data {
				t.Data[i] = float32(0.5 + r.Float64())
			}
		case hasSuffix(p.Name, "running_mean"), hasSuffix(p.Name, ".bias"):
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

func hasSuffix(s, suf string) bool { return len(s) >= len(suf) && s[len(s)-len(suf):] == suf }
