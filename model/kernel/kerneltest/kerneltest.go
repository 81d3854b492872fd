// Package kerneltest checks a kernel.Kernels implementation against
// kernel.Reference: every implementation must be exact for int8.
package kerneltest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/bagnetweb/bagnet/model/kernel"
)

// Shapes are the (m, n, k) the U8I8 checks run: tiny ones, sizes that are not
// multiples of any tile (m odd, n % 4 != 0, k % 8 != 0), the stem's k = 27
// and BagNet-like layers.
var Shapes = [][3]int{
	{1, 1, 1}, {1, 1, 7}, {2, 4, 8}, {2, 4, 3}, {3, 5, 9}, {7, 9, 27}, {5, 3, 15},
	{33, 17, 64}, {16, 16, 17}, {64, 130, 576}, {31, 63, 1153}, {4, 1, 2048},
}

// U8I8 compares k.U8I8 with kernel.Reference on random data for every shape
// in Shapes, plus the extremes (every activation 255 against every weight
// -128 at the largest k), and returns the first mismatch.
func U8I8(k kernel.Kernels) error {
	r := rand.New(rand.NewPCG(1, 2))
	for _, sz := range Shapes {
		m, n, kk := sz[0], sz[1], sz[2]
		a, b := make([]uint8, m*kk), make([]int8, n*kk)
		for i := range a {
			a[i] = uint8(r.IntN(256))
		}
		for i := range b {
			b[i] = int8(r.IntN(256) - 128)
		}
		a[0], b[0] = 255, -128
		if err := compare(k, m, n, kk, a, b); err != nil {
			return err
		}
	}
	// Extremes at the largest k: 255 * -128 * 65793 is just above -2^31.
	m, n, kk := 3, 5, kernel.MaxK
	a, b := make([]uint8, m*kk), make([]int8, n*kk)
	for i := range a {
		a[i] = 255
	}
	for i := range b {
		b[i] = -128
		if i >= 4*kk {
			b[i] = 127
		}
	}
	return compare(k, m, n, kk, a, b)
}

func compare(k kernel.Kernels, m, n, kk int, a []uint8, b []int8) error {
	want := make([]int32, m*n)
	kernel.Reference{}.U8I8(m, a, kernel.Reference{}.PackI8(n, kk, b), want)
	got := make([]int32, m*n+1)
	got[m*n] = 12345 // a guard: nothing may be written past m*n
	k.U8I8(m, a, k.PackI8(n, kk, b), got[:m*n])
	for i := range want {
		if got[i] != want[i] {
			return fmt.Errorf("U8I8 %dx%dx%d: C[%d][%d] = %d, reference %d", m, n, kk, i/n, i%n, got[i], want[i])
		}
	}
	if got[m*n] != 12345 {
		return fmt.Errorf("U8I8 %dx%dx%d wrote past the end of C", m, n, kk)
	}
	return nil
}

// GEMM is one benchmark shape: m positions, n outputs, k inputs.
type GEMM struct {
	Name    string
	M, N, K int
}

// BagNet33GEMMs are per-layer GEMMs of the full-width BagNet-33 at 224: the
// 3x3 convs of stages 1-4 (im2col'd), a 1x1 expansion, a 1x1 reduction and
// the 1000-class head.
var BagNet33GEMMs = []GEMM{
	{"stage1_3x3", 110 * 110, 64, 9 * 64},
	{"stage2_3x3", 54 * 54, 128, 9 * 128},
	{"stage3_3x3", 26 * 26, 256, 9 * 256},
	{"stage4_3x3", 24 * 24, 512, 9 * 512},
	{"stage1_1x1_expand", 110 * 110, 256, 64},
	{"stage3_1x1_reduce", 26 * 26, 256, 1024},
	{"head_1000", 24 * 24, 1000, 2048},
}

// Requant compares k.Requant with kernel.RequantRef on random accumulators
// and multipliers (every shift branch: tiny, ordinary, huge and zero
// multipliers), with each kind of residual, and returns the first mismatch.
func Requant(k kernel.Kernels) error {
	r := rand.New(rand.NewPCG(7, 8))
	for _, sz := range [][3]int{{1, 1, 0}, {3, 5, 0}, {17, 64, 0}, {100, 33, 0}, {3, 5, 1}, {3, 8, 1}, {17, 64, 1}, {100, 36, 1}, {100, 33, 1}} {
		// Mode 0 has every kind of multiplier in each layer; mode 1 only
		// ordinary ones and tiny ones (shift >= 63), as trained layers have.
		rows, C, mode := sz[0], sz[1], sz[2]
		mults := func() []float64 {
			m := make([]float64, C)
			for c := range m {
				switch k := c % 6; {
				case mode == 1 && k == 0:
					m[c] = 1e-20
				case mode == 1:
					m[c] = math.Exp(r.NormFloat64()*3 - 5)
				default:
					switch k {
					case 0:
						m[c] = 1e-20 // shift >= 63
					case 1:
						m[c] = 1e6 // a negative shift
					case 2:
						m[c] = 1e20 // saturates
					case 3:
						m[c] = 0
					default:
						m[c] = math.Exp(r.NormFloat64()*3 - 5)
					}
				}
			}
			return m
		}
		// Mode 0: accumulators and biases of any size (k = MaxK); mode 1:
		// those of k = 4608 products, where 32-bit lanes are exact.
		kk, biasMax := kernel.MaxK, int64(1<<30)
		if mode == 1 {
			kk, biasMax = 4608, 1<<29
		}
		accMax := int64(255*128) * int64(kk)
		bias := make([]int64, C)
		for c := range bias {
			bias[c] = r.Int64N(2*biasMax+1) - biasMax
		}
		q, rq := kernel.NewRequant(bias, mults(), kk), kernel.NewRequant(bias, mults(), kk)
		if mode == 1 && (q.V == nil || rq.V == nil) {
			return fmt.Errorf("Requant %dx%d: no 32-bit table for ordinary multipliers", rows, C)
		}
		acc, res32, res8 := make([]int32, rows*C), make([]int32, rows*C), make([]uint8, rows*C)
		for i := range acc {
			acc[i] = clamp32(r.Int64N(2*accMax+1) - accMax)
			res32[i] = clamp32(r.Int64N(2*accMax+1) - accMax)
			if i%11 == 0 { // the extremes
				acc[i], res32[i] = clamp32(-accMax), clamp32(accMax)
			}
			res8[i] = uint8(r.IntN(256))
			if i%7 == 0 {
				acc[i] = int32(r.IntN(2000) - 1000)
			}
		}
		for _, v := range []struct {
			name  string
			res32 []int32
			res8  []uint8
			rq    *kernel.Requant
		}{{"plain", nil, nil, nil}, {"downsample residual", res32, nil, rq}, {"identity residual", nil, res8, rq}} {
			want, got := make([]uint8, rows*C), make([]uint8, rows*C+1)
			got[rows*C] = 77
			kernel.RequantRef(rows, acc, q, v.res32, v.res8, v.rq, want)
			k.Requant(rows, acc, q, v.res32, v.res8, v.rq, got[:rows*C])
			for i := range want {
				if got[i] != want[i] {
					return fmt.Errorf("Requant %s %dx%d: [%d] channel %d = %d, reference %d", v.name, rows, C, i, i%C, got[i], want[i])
				}
			}
			if got[rows*C] != 77 {
				return fmt.Errorf("Requant %s %dx%d wrote past the end", v.name, rows, C)
			}
		}
	}
	return nil
}

func clamp32(v int64) int32 { return int32(max(min(v, math.MaxInt32), math.MinInt32)) }

// Operands are a GEMM's inputs and outputs for a benchmark, float32 and
// int8: A is M x K, B is N x K, C is M x N.
type Operands struct {
	AF, BF, CF []float32
	AU         []uint8
	BI         []int8
	CI         []int32
}

// Operands draws g's operands at random from a generator seeded with seed
// (uniform floats in [0, 1), activations in [0, 255], weights in
// [-127, 127]).
func (g GEMM) Operands(seed uint64) Operands {
	r := rand.New(rand.NewPCG(seed, seed))
	o := Operands{
		AF: make([]float32, g.M*g.K), BF: make([]float32, g.N*g.K), CF: make([]float32, g.M*g.N),
		AU: make([]uint8, g.M*g.K), BI: make([]int8, g.N*g.K), CI: make([]int32, g.M*g.N),
	}
	for i := range o.AF {
		o.AF[i], o.AU[i] = r.Float32(), uint8(r.IntN(256))
	}
	for i := range o.BF {
		o.BF[i], o.BI[i] = r.Float32(), int8(r.IntN(255)-127)
	}
	return o
}

// MACs is the GEMM's multiply-accumulates.
func (g GEMM) MACs() float64 { return float64(g.M) * float64(g.N) * float64(g.K) }

// BenchU8I8 runs the sub-benchmark name: k's int8 GEMM on g's operands o
// (weights packed once, outside the timing), reporting GMAC/s.
func BenchU8I8(b *testing.B, name string, g GEMM, o Operands, k kernel.Kernels) {
	b.Run(name, func(b *testing.B) {
		p := k.PackI8(g.N, g.K, o.BI)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			k.U8I8(g.M, o.AU, p, o.CI)
		}
		b.ReportMetric(g.MACs()*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
	})
}

// BenchF32 runs the sub-benchmark name: k's float32 GEMM on g's operands
// o, reporting GMAC/s.
func BenchF32(b *testing.B, name string, g GEMM, o Operands, k kernel.Kernels) {
	b.Run(name, func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			k.F32(g.M, g.N, g.K, o.AF, o.BF, o.CF)
		}
		b.ReportMetric(g.MACs()*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
	})
}
