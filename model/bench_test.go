package model

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/bagnetweb/bagnet/model/kernel"
	"github.com/bagnetweb/bagnet/model/kernel/kerneltest"
)

// Full-width BagNet-33 at 224x224 with random weights: 16.26 GMAC (the int8
// path folds the stem, so it does fewer MACs; GMAC/s is reported against the
// float network's count for both, i.e. "equivalent" throughput).
func benchNet(b *testing.B, width float64, size int, int8 bool, k kernel.Kernels) {
	cfg := Config{Arch: "bagnet33", Width: width, Classes: 1000}
	n, err := NewNet(cfg, RandomStateDict(cfg, 1))
	if err != nil {
		b.Fatal(err)
	}
	n.Kernels = k
	img := randomRGB(size, size, 5)
	x := NormalizedInput(img, size, size, mean, std)
	var q *QNet
	if int8 {
		var cal Calibrator
		n.Observe = cal.Observer()
		if _, _, err := n.Forward(x); err != nil {
			b.Fatal(err)
		}
		n.Observe = nil
		if q, err = Quantize(n, mean, std, cal.Scales()); err != nil {
			b.Fatal(err)
		}
		q.Kernels = k
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if int8 {
			f, err := q.Features(img, size, size)
			if err != nil {
				b.Fatal(err)
			}
			q.Logits(f)
		} else if _, _, err := n.Forward(x); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cfg.MACs(size, size))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
}

func BenchmarkBagNet33Full224Int8(b *testing.B)    { benchNet(b, 1, 224, true, kernel.Fast{}) }
func BenchmarkBagNet33Full224Float32(b *testing.B) { benchNet(b, 1, 224, false, kernel.Fast{}) }

// The shipped model's shape: width 0.25 at 128x128 (0.295 GMAC).
func BenchmarkBagNet33W025S128Int8(b *testing.B)    { benchNet(b, 0.25, 128, true, kernel.Fast{}) }
func BenchmarkBagNet33W025S128Float32(b *testing.B) { benchNet(b, 0.25, 128, false, kernel.Fast{}) }

func BenchmarkGEMM(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 9))
	for _, l := range kerneltest.BagNet33GEMMs {
		af, bf, cf := make([]float32, l.M*l.K), make([]float32, l.N*l.K), make([]float32, l.M*l.N)
		au, bi, ci := make([]uint8, l.M*l.K), make([]int8, l.N*l.K), make([]int32, l.M*l.N)
		for i := range af {
			af[i], au[i] = r.Float32(), uint8(r.IntN(256))
		}
		for i := range bf {
			bf[i], bi[i] = r.Float32(), int8(r.IntN(255)-127)
		}
		macs := float64(l.M) * float64(l.N) * float64(l.K)
		for _, kc := range []struct {
			name string
			k    kernel.Kernels
		}{{"reference", kernel.Reference{}}, {"fast", kernel.Fast{}}, {"native", kernel.Native()}} {
			if kc.k == nil {
				continue
			}
			b.Run(fmt.Sprintf("%s/int8/%s", l.Name, kc.name), func(b *testing.B) {
				pb := kc.k.PackI8(l.N, l.K, bi)
				for i := 0; i < b.N; i++ {
					kc.k.U8I8(l.M, au, pb, ci)
				}
				b.ReportMetric(macs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
			})
			b.Run(fmt.Sprintf("%s/f32/%s", l.Name, kc.name), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					kc.k.F32(l.M, l.N, l.K, af, bf, cf)
				}
				b.ReportMetric(macs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
			})
		}
	}
}
