//go:build !js

package wazerokernel

import (
	"context"
	"fmt"
	"testing"

	"github.com/bagnetweb/bagnet/model/kernel"
	"github.com/bagnetweb/bagnet/model/kernel/kerneltest"
	"github.com/bagnetweb/bagnet/model/modeltest"
)

func newKernels(t testing.TB) *Kernels {
	k, err := New(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

// kernel.wasm run natively is exact: the conformance suite and the int8
// digest of BagNet-9/17/33 equal the reference's.
func TestMatchesReference(t *testing.T) {
	k := newKernels(t)
	if err := kerneltest.U8I8(k); err != nil {
		t.Fatal(err)
	}
	want, err := modeltest.Digest(kernel.Reference{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := modeltest.Digest(k)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("digest %s, Reference %s", got, want)
	}
}

// BenchmarkGEMM compares the two native routes on BagNet-33's layer
// shapes: kernel.wasm in wazero (with the per-call copies of the
// activations in and the sums out, and without them: copies reported
// separately) and the AVX2 assembly.
func BenchmarkGEMM(b *testing.B) {
	k := newKernels(b)
	for _, l := range kerneltest.BagNet33GEMMs {
		o := l.Operands(9)
		au, ci := o.AU, o.CI
		kerneltest.BenchU8I8(b, l.Name+"/wazero", l, o, k)
		b.Run(fmt.Sprintf("%s/wazero-copies-only", l.Name), func(b *testing.B) {
			ao, co := k.alloc(len(au)), k.alloc(4*len(ci))
			defer func() { k.top = ao }()
			dst := make([]byte, 4*len(ci))
			for i := 0; i < b.N; i++ {
				k.mem.Write(ao, au)
				out, _ := k.mem.Read(co, uint32(len(dst)))
				copy(dst, out)
			}
		})
		if nat := kernel.Native(); nat != nil {
			kerneltest.BenchU8I8(b, l.Name+"/avx2", l, o, nat)
		}
	}
}
