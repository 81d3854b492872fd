// Package testfixture holds what the tests of several packages share: it
// reads the PyTorch reference files of testdata/fixtures (written by
// weights/train/make_fixtures.py), compares outputs with them, rewrites
// model files into broken ones, writes (sparse) files, and measures a
// call's time and allocations.
package testfixture

import (
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/bagnetweb/bagnet/weights/safetensors"
)

// ReadSafetensors reads and parses the safetensors file at path, failing
// the test if it cannot.
func ReadSafetensors(t testing.TB, path string) *safetensors.File {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Parse(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return f
}

// Image is one of the reference inputs: RGB bytes, H rows of W pixels.
type Image struct {
	Name string // img0, img1, ...: the prefix of its tensors in the reference files
	H, W int
	RGB  []uint8
}

// Images reads the reference inputs img0, img1, ... of inputs.safetensors
// at path, failing the test if there are none or one is not H x W x 3.
func Images(t testing.TB, path string) []Image {
	t.Helper()
	f := ReadSafetensors(t, path)
	var imgs []Image
	for i := 0; ; i++ {
		name := fmt.Sprintf("img%d", i)
		if !f.Has(name) {
			break
		}
		ti, _ := f.Tensor(name)
		h, w := ti.Shape[0], ti.Shape[1]
		rgb, err := f.U8(name, []int{h, w, 3})
		if err != nil {
			t.Fatal(err)
		}
		imgs = append(imgs, Image{name, h, w, rgb})
	}
	if len(imgs) == 0 {
		t.Fatalf("%s: no images", path)
	}
	return imgs
}

// Cosine is the cosine similarity of a and b (of equal length).
func Cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}

// MaxAbs is the largest |x| of v: the scale tolerances are relative to.
func MaxAbs(v []float32) float64 {
	var m float64
	for _, x := range v {
		m = math.Max(m, math.Abs(float64(x)))
	}
	return m
}

// A Checkpoint is one of the PyTorch checkpoint fixtures: File (in
// testdata/fixtures) holds a BagNet of architecture Arch.
type Checkpoint struct{ File, Arch string }

// Checkpoints lists every serialisation of the checkpoint fixtures: the
// zip format, the legacy tar format, and a state dict wrapped in a dict.
func Checkpoints() []Checkpoint {
	return []Checkpoint{
		{"bagnet9.pth", "bagnet9"},
		{"bagnet9_legacy.pth.tar", "bagnet9"},
		{"bagnet17.pth", "bagnet17"},
		{"bagnet17_legacy.pth.tar", "bagnet17"},
		{"bagnet33.pth", "bagnet33"},
		{"bagnet33_legacy.pth.tar", "bagnet33"},
		{"bagnet33_wrapped.pth", "bagnet33"},
	}
}

// Must is for a call whose error fails the test: Must(f())(t) is f's value,
// after t.Fatal(err) if f failed.
func Must[T any](v T, err error) func(t testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}
