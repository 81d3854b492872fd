package model_test

import (
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/bagnetweb/bagnet/model"
	"github.com/bagnetweb/bagnet/model/kernel"
	"github.com/bagnetweb/bagnet/model/kernel/kerneltest"
	"github.com/bagnetweb/bagnet/weights"
	"github.com/bagnetweb/bagnet/weights/shipped"
)

// Full-width BagNet-33 at 224x224 with random weights: 16.26 GMAC (the int8
// path folds the stem, so it does fewer MACs; GMAC/s is reported against the
// float network's count for both, i.e. "equivalent" throughput).
func benchNet(b *testing.B, width float64, size int, int8 bool, k kernel.Kernels) {
	cfg := model.Config{Arch: "bagnet33", Width: width, Classes: 1000}
	n, err := model.NewNet(cfg, model.RandomStateDict(cfg, 1))
	if err != nil {
		b.Fatal(err)
	}
	n.Kernels = k
	img := model.RandomRGB(size, size, 5)
	mean, std := model.ImageNetNorm()
	x := model.NormalizedInput(img, size, size, mean, std)
	var q *model.QNet
	if int8 {
		var cal model.Calibrator
		n.Observe = cal.Observer()
		if _, _, err := n.Forward(x); err != nil {
			b.Fatal(err)
		}
		n.Observe = nil
		if q, err = model.Quantize(n, mean, std, cal.Scales()); err != nil {
			b.Fatal(err)
		}
		q.UseKernels(k)
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

// The same on the default kernels (Native where the CPU has one).
func BenchmarkBagNet33Full224Int8Default(b *testing.B) {
	benchNet(b, 1, 224, true, kernel.Default())
}
func BenchmarkBagNet33Full224Float32Default(b *testing.B) {
	benchNet(b, 1, 224, false, kernel.Default())
}

// The shipped model's shape: width 0.25 at 128x128 (0.295 GMAC).
func BenchmarkBagNet33W025S128Int8(b *testing.B)    { benchNet(b, 0.25, 128, true, kernel.Fast{}) }
func BenchmarkBagNet33W025S128Float32(b *testing.B) { benchNet(b, 0.25, 128, false, kernel.Fast{}) }

// BenchmarkInt8 is what `make bench` runs: one image through the int8
// network, for the full-size BagNet-33 (224 px, 1000 classes, random
// weights) and the shipped model (its own input size), on the pure-Go
// kernel ("go") and the native one ("native"), on 1 core and on all cores
// (the final map split in bands run on goroutines, then joined, as the
// browser's band workers do). Names: BenchmarkInt8/<net>/<kernel>/<cores>.
func BenchmarkInt8(b *testing.B) {
	full, err := model.RandomQNet(model.Config{Arch: "bagnet33", Width: 1, Classes: 1000}, 1, 224, 1)
	if err != nil {
		b.Fatal(err)
	}
	m, err := weights.Load(shipped.Model())
	if err != nil {
		b.Fatal(err)
	}
	if m.Int8 == nil {
		b.Fatalf("%s is not an int8 model", shipped.Path)
	}
	kernels := []struct {
		name string
		k    kernel.Kernels
	}{{"go", kernel.Fast{}}, {"native", kernel.Native()}}
	all := runtime.GOMAXPROCS(0)
	for _, net := range []struct {
		name string
		q    *model.QNet
		size int
	}{{"full224", full, 224}, {"shipped", m.Int8, m.InputSize}} {
		img := model.RandomRGB(net.size, net.size, 5)
		macs := float64(net.q.MACs(net.size, net.size))
		for _, kc := range kernels {
			if kc.k == nil {
				b.Logf("no native kernel on this CPU: %s/native skipped", net.name)
				continue
			}
			net.q.UseKernels(kc.k)
			for _, cores := range []int{1, all} {
				if cores == all && (all == 1 || kc.name == "go") {
					continue // the pure-Go kernel: the baseline on one core only
				}
				b.Run(fmt.Sprintf("%s/%s/%d", net.name, kc.name, cores), func(b *testing.B) {
					// One untimed pass first: the scratch buffers are made
					// by the first pass (and kept), so every timed pass is
					// what each later image costs.
					if _, err := bandedFeatures(net.q, img, net.size, cores); err != nil {
						b.Fatal(err)
					}
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						f, err := bandedFeatures(net.q, img, net.size, cores)
						if err != nil {
							b.Fatal(err)
						}
						net.q.Logits(f)
					}
					b.ReportMetric(macs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
				})
			}
		}
	}
}

// bandedFeatures is q.Features of a size x size image computed as `bands`
// bands of the final map on as many goroutines (model.Bands, FeatureRect,
// JoinRows): the same bytes as one pass.
func bandedFeatures(q *model.QNet, img []uint8, size, bands int) (*model.QMap, error) {
	if bands == 1 {
		return q.Features(img, size, size)
	}
	mh, mw := q.MapSize(size, size)
	bs := model.Bands(mh, bands, 1)
	parts, errs := make([]*model.QMap, len(bs)), make([]error, len(bs))
	var wg sync.WaitGroup
	for i, r := range bs {
		wg.Go(func() { parts[i], errs[i] = q.FeatureRect(img, size, size, r[0], r[1], 0, mw) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return model.JoinRows(parts)
}

// The banded run used by BenchmarkInt8 gives the one-pass bytes.
func TestBandedFeaturesEqualOnePass(t *testing.T) {
	q, err := model.RandomQNet(model.Config{Arch: "bagnet17", Width: 0.125, Classes: 10}, 3, 80, 1)
	if err != nil {
		t.Fatal(err)
	}
	img := model.RandomRGB(80, 80, 9)
	want, err := q.Features(img, 80, 80)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{2, 3} {
		got, err := bandedFeatures(q, img, 80, n)
		if err != nil {
			t.Fatal(err)
		}
		if got.H != want.H || string(got.Data) != string(want.Data) {
			t.Fatalf("%d bands: a %dx%d map differing from the one-pass %dx%d map", n, got.H, got.W, want.H, want.W)
		}
	}
}

func BenchmarkGEMM(b *testing.B) {
	for _, l := range kerneltest.BagNet33GEMMs {
		o := l.Operands(9)
		for _, kc := range []struct {
			name string
			k    kernel.Kernels
		}{{"reference", kernel.Reference{}}, {"fast", kernel.Fast{}}, {"native", kernel.Native()}} {
			if kc.k == nil {
				continue
			}
			kerneltest.BenchU8I8(b, l.Name+"/int8/"+kc.name, l, o, kc.k)
			kerneltest.BenchF32(b, l.Name+"/f32/"+kc.name, l, o, kc.k)
		}
	}
}
