//go:build js && wasm

package simd

import (
	"math/rand/v2"
	"testing"

	"github.com/bagnetweb/bagnet/model"
	"github.com/bagnetweb/bagnet/model/kernel"
	"github.com/bagnetweb/bagnet/model/kernel/kerneltest"
	"github.com/bagnetweb/bagnet/model/modeltest"
)

func load(t testing.TB) *Kernels {
	k, err := Load()
	if err != nil {
		t.Skip(err)
	}
	return k
}

// TestSIMDMatchesReference is run under Node by TestSIMDInNode (simd_test.go).
func TestSIMDMatchesReference(t *testing.T) {
	k := load(t)
	if err := kerneltest.U8I8(k); err != nil {
		t.Fatal(err)
	}
	if err := kerneltest.Requant(k); err != nil {
		t.Fatal(err)
	}
	// Grow Go's memory (by hundreds of MiB) and check again: the module
	// imports the Memory object itself, so it sees the grown buffer.
	big := make([][]byte, 0, 8)
	for i := 0; i < 6; i++ {
		big = append(big, make([]byte, 64<<20))
		big[i][len(big[i])-1] = 1
	}
	if err := kerneltest.U8I8(k); err != nil {
		t.Fatalf("after memory growth: %v", err)
	}
	// A buffer at the top of the grown memory.
	m, n, kk := 37, 21, 1000
	a, b := make([]uint8, m*kk), make([]int8, n*kk)
	r := rand.New(rand.NewPCG(5, 6))
	for i := range a {
		a[i] = uint8(r.IntN(256))
	}
	for i := range b {
		b[i] = int8(r.IntN(256) - 128)
	}
	want, got := make([]int32, m*n), make([]int32, m*n)
	kernel.Reference{}.U8I8(m, a, kernel.Raw(n, kk, b), want)
	k.U8I8(m, a, k.PackI8(n, kk, b), got)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("high buffers: [%d] %d, want %d", i, got[i], want[i])
		}
	}
	_ = big
	t.Log("simd: kernels checked against the reference")
}

// TestSIMDNetworkDigest prints the int8 engine's digest on the SIMD kernels;
// TestSIMDInNode compares it with the native one.
func TestSIMDNetworkDigest(t *testing.T) {
	k := load(t)
	d, err := modeltest.Digest(k)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("simd digest: %s", d)
}

func BenchmarkGEMM(b *testing.B) {
	k := load(b)
	for _, l := range kerneltest.BagNet33GEMMs {
		o := l.Operands(9)
		kerneltest.BenchU8I8(b, l.Name+"/simd", l, o, k)
		kerneltest.BenchU8I8(b, l.Name+"/go", l, o, kernel.Fast{})
	}
}

// BenchmarkBagNet33 runs the int8 network on the SIMD kernels and on Fast:
// the full-size BagNet-33 at 224 and the shipped shape.
func BenchmarkBagNet33(b *testing.B) {
	k := load(b)
	for _, s := range []struct {
		name  string
		width float64
		size  int
	}{{"full224", 1, 224}, {"w025_128", 0.25, 128}} {
		cfg := model.Config{Arch: "bagnet33", Width: s.width, Classes: 1000}
		q, err := model.RandomQNet(cfg, 1, s.size, 1)
		if err != nil {
			b.Fatal(err)
		}
		img := model.RandomRGB(s.size, s.size, 5)
		for _, kc := range []struct {
			name string
			k    kernel.Kernels
		}{{"simd", k}, {"go", kernel.Fast{}}} {
			b.Run(s.name+"/"+kc.name, func(b *testing.B) {
				q.UseKernels(kc.k)
				for i := 0; i < b.N; i++ {
					f, err := q.Features(img, s.size, s.size)
					if err != nil {
						b.Fatal(err)
					}
					q.Logits(f)
				}
				b.ReportMetric(float64(cfg.MACs(s.size, s.size))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
			})
		}
	}
}

// BenchmarkRequant: one stage-1 expansion's requantisation with its
// downsample residual (12100 x 256), on the SIMD path (32-bit tables), the
// module's scalar path, and in Go.
func BenchmarkRequant(b *testing.B) {
	k := load(b)
	rows, C := 12100, 256
	r := rand.New(rand.NewPCG(1, 1))
	mult, bias := make([]float64, C), make([]int64, C)
	for c := range mult {
		mult[c], bias[c] = 1e-4*(1+r.Float64()), r.Int64N(1<<20)-1<<19
	}
	acc, res := make([]int32, rows*C), make([]int32, rows*C)
	for i := range acc {
		acc[i], res[i] = int32(r.IntN(1<<22)-1<<21), int32(r.IntN(1<<22)-1<<21)
	}
	out := make([]uint8, rows*C)
	q, rq := kernel.NewRequant(bias, mult, 64), kernel.NewRequant(bias, mult, 64)
	sq, srq := *q, *rq
	sq.V, srq.V = nil, nil
	for _, v := range []struct {
		name  string
		k     kernel.Kernels
		q, rq *kernel.Requant
	}{{"simd", k, q, rq}, {"scalar", k, &sq, &srq}, {"go", kernel.Fast{}, q, rq}} {
		b.Run(v.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				v.k.Requant(rows, acc, v.q, res, nil, v.rq, out)
			}
			b.ReportMetric(float64(rows*C)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mout/s")
		})
	}
}
