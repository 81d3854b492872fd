package kernel_test

import (
	"runtime"
	"testing"

	"github.com/bagnetweb/bagnet/model/kernel"
	"github.com/bagnetweb/bagnet/model/kernel/kerneltest"
	"github.com/bagnetweb/bagnet/model/modeltest"
)

// native is Native, or a skip where this machine has none.
func native(t *testing.T) kernel.Kernels {
	k := kernel.Native()
	if k == nil {
		if runtime.GOARCH == "amd64" {
			t.Logf("no native kernel: this amd64 CPU lacks AVX2 (or the purego tag is set)")
		}
		t.Skip("no native kernel on " + runtime.GOARCH)
	}
	return k
}

func TestNativeMatchesReference(t *testing.T) {
	k := native(t)
	if err := kerneltest.U8I8(k); err != nil {
		t.Error(err)
	}
	if err := kerneltest.Requant(k); err != nil {
		t.Error(err)
	}
}

func TestFastMatchesReference(t *testing.T) {
	if err := kerneltest.U8I8(kernel.Fast{}); err != nil {
		t.Error(err)
	}
	if err := kerneltest.Requant(kernel.Fast{}); err != nil {
		t.Error(err)
	}
}

// Default must be Native where there is one: the CLI and the engine run on
// Default without choosing.
func TestDefaultIsNative(t *testing.T) {
	want := kernel.Native()
	if want == nil {
		want = kernel.Fast{}
	}
	if got := kernel.Default(); got != want {
		t.Fatalf("Default() = %T, want %T", got, want)
	}
}

// The int8 engine on the native kernel gives the pure-Go kernel's results
// bit for bit (BagNet-9/17/33, logits and every evidence map).
func TestNativeDigest(t *testing.T) {
	k := native(t)
	want, err := modeltest.Digest(kernel.Reference{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []kernel.Kernels{kernel.Fast{}, k} {
		got, err := modeltest.Digest(k)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%T: digest %s, Reference %s", k, got, want)
		}
	}
}

// A weight matrix packed by another implementation (Raw only) still runs.
func TestNativeForeignPacking(t *testing.T) {
	k := native(t)
	a := []uint8{1, 2, 3, 4, 5, 6, 7, 8, 9}
	b := []int8{1, -1, 2, -2, 3, -3, 4, -4, 5}
	c := make([]int32, 1)
	k.U8I8(1, a, kernel.Raw(1, 9, b), c)
	if c[0] != 1-2+6-8+15-18+28-32+45 {
		t.Fatalf("U8I8 on Raw weights = %d", c[0])
	}
}
