//go:build js && wasm

package simd

import (
	"errors"
	"runtime"
	"syscall/js"
	"unsafe"

	"github.com/bagnetweb/bagnet/model/kernel"
)

// Kernels implements kernel.Kernels with the SIMD module for the int8 GEMM
// and the pure-Go kernel.Fast for float32.
type Kernels struct {
	kernel.Fast
	gemm, requant js.Value
}

// Global is the name of the JS global the host sets to the kernel module's
// exports (instantiated on Go's memory) before Go starts.
const Global = "bagnetSIMD"

// Load finds the kernel module the host instantiated. It fails when there is
// none (no SIMD in this browser, or the host did not load it): run the
// pure-Go kernels then.
func Load() (*Kernels, error) {
	m := js.Global().Get(Global)
	if m.Type() != js.TypeObject {
		return nil, errors.New("simd: no WebAssembly SIMD kernel module on this page (" + Global + " is not set)")
	}
	g := m.Get("gemm_u8i8")
	if g.Type() != js.TypeFunction {
		return nil, errors.New("simd: the kernel module does not export gemm_u8i8")
	}
	r := m.Get("requant")
	if r.Type() != js.TypeFunction {
		return nil, errors.New("simd: the kernel module does not export requant")
	}
	return &Kernels{gemm: g, requant: r}, nil
}

// PackI8 implements kernel.Kernels: the panel layout of Pack.
func (k *Kernels) PackI8(n, kk int, b []int8) *kernel.PackedI8 {
	p := kernel.Raw(n, kk, b)
	p.Data = Pack(n, kk, b)
	return p
}

// U8I8 implements kernel.Kernels.
func (k *Kernels) U8I8(m int, a []uint8, b *kernel.PackedI8, c []int32) {
	kernel.Check(m, a, b, c)
	if m == 0 || b.N == 0 {
		return
	}
	if b.Data == nil || b.K == 0 || b.K > kernel.MaxK { // not packed by us, or degenerate
		k.Fast.U8I8(m, a, b, c)
		return
	}
	k.gemm.Invoke(m, b.N, b.K, addr(a), addr(b.Data), addr(c), b.N)
	runtime.KeepAlive(a)
	runtime.KeepAlive(b.Data)
	runtime.KeepAlive(c)
}

// Requant implements kernel.Kernels.
func (k *Kernels) Requant(rows int, acc []int32, q *kernel.Requant, res32 []int32, res8 []uint8, rq *kernel.Requant, out []uint8) {
	kernel.CheckRequant(rows, acc, q, res32, res8, rq, out)
	if rows == 0 || q.C == 0 {
		return
	}
	var rqp []int64
	var rqv []int32
	if rq != nil {
		rqp, rqv = rq.P, rq.V
	}
	k.requant.Invoke(rows, q.C, addr(acc), addr(q.P), addr(res32), addr(res8), addr(rqp), addr(out), addr(q.V), addr(rqv))
	runtime.KeepAlive(acc)
	runtime.KeepAlive(q)
	runtime.KeepAlive(res32)
	runtime.KeepAlive(res8)
	runtime.KeepAlive(rq)
	runtime.KeepAlive(out)
}

// addr is the linear-memory address of a slice's first element (on js/wasm a
// Go pointer is that address; 0 for nil). Go's heap does not move objects.
func addr[T any](s []T) int {
	if s == nil {
		return 0
	}
	return int(uintptr(unsafe.Pointer(unsafe.SliceData(s))))
}
