//go:build !js

// Package wazerokernel runs the browser's WebAssembly SIMD kernel
// (wasm/simd/kernel.wasm, the same bytes) natively in wazero's compiler, a
// pure-Go WebAssembly runtime that turns i32x4.dot_i16x8_s into pmaddwd: the
// second route to a fast exact native int8 GEMM, measured against the AVX2
// assembly (kernel.AVX2) in this package's benchmark. The AVX2 kernel won
// (see docs/benchmarks-native.md), so nothing selects this one by default;
// it stays as the measured alternative and a native check of kernel.wasm.
//
// The module works on its own linear memory: the weights are copied into it
// once, when packed; a GEMM's activations are copied in and its
// accumulators out on every call (the benchmark reports what that costs).
// The js/wasm builds never link wazero (the build constraint; a test checks
// the wasm programs' dependency lists).
package wazerokernel

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"unsafe"

	"github.com/bagnetweb/bagnet/model/kernel"
	"github.com/bagnetweb/bagnet/wasm/simd"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// Kernels implements kernel.Kernels with kernel.wasm's gemm_u8i8 for the
// int8 GEMM and the pure-Go kernel.Fast for the rest. Safe for concurrent
// use (calls are serialised: one module instance, one memory).
type Kernels struct {
	kernel.Fast
	mu      sync.Mutex
	ctx     context.Context
	rt      wazero.Runtime
	mem     api.Memory
	gemm    api.Function
	top     uint32           // the first free byte of linear memory
	weights map[*int8]uint32 // packed weights -> their address in memory
}

// page is WebAssembly's memory page.
const page = 64 << 10

func envModule() []byte {
	// memory section: one memory with limits {min 1, max 65536}.
	mem := []byte{1, 1, 1}
	mem = binary.AppendUvarint(mem, 65536)
	exp := append([]byte{1, 6}, "memory"...)
	exp = append(exp, 2, 0) // kind memory, index 0
	b := []byte{0, 'a', 's', 'm', 1, 0, 0, 0, 5, byte(len(mem))}
	b = append(b, mem...)
	b = append(b, 7, byte(len(exp)))
	return append(b, exp...)
}

// New compiles kernel.wasm to machine code and instantiates it on a fresh
// memory.
func New(ctx context.Context) (*Kernels, error) {
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler().WithCoreFeatures(api.CoreFeaturesV2))
	if _, err := rt.InstantiateWithConfig(ctx, envModule(), wazero.NewModuleConfig().WithName("env")); err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("wazerokernel: memory module: %w", err)
	}
	mod, err := rt.InstantiateWithConfig(ctx, simd.Module, wazero.NewModuleConfig().WithName("kernel"))
	if err != nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("wazerokernel: kernel.wasm: %w", err)
	}
	g := mod.ExportedFunction("gemm_u8i8")
	if g == nil {
		rt.Close(ctx)
		return nil, fmt.Errorf("wazerokernel: kernel.wasm does not export gemm_u8i8")
	}
	return &Kernels{ctx: ctx, rt: rt, mem: mod.Memory(), gemm: g, top: 1024, weights: map[*int8]uint32{}}, nil
}

// Close frees the runtime.
func (k *Kernels) Close() error { return k.rt.Close(k.ctx) }

// alloc reserves n bytes (16-aligned) at the top of memory, growing it.
func (k *Kernels) alloc(n int) uint32 {
	at := (k.top + 15) &^ 15
	end := uint64(at) + uint64(n)
	if have := uint64(k.mem.Size()); end > have {
		if _, ok := k.mem.Grow(uint32((end - have + page - 1) / page)); !ok {
			panic("wazerokernel: linear memory full")
		}
	}
	k.top = uint32(end)
	return at
}

// PackI8 implements kernel.Kernels: simd.Pack's panel layout, copied into
// linear memory once.
func (k *Kernels) PackI8(n, kk int, b []int8) *kernel.PackedI8 {
	p := kernel.Raw(n, kk, b)
	p.Data = simd.Pack(n, kk, b)
	if len(p.Data) == 0 {
		return p
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	at := k.alloc(len(p.Data))
	k.mem.Write(at, unsafe.Slice((*byte)(unsafe.Pointer(&p.Data[0])), len(p.Data)))
	k.weights[&p.Data[0]] = at
	return p
}

// U8I8 implements kernel.Kernels.
func (k *Kernels) U8I8(m int, a []uint8, b *kernel.PackedI8, c []int32) {
	kernel.Check(m, a, b, c)
	if m == 0 || b.N == 0 {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	var w uint32
	if len(b.Data) > 0 {
		w = k.weights[&b.Data[0]]
	}
	if w == 0 || b.K == 0 || b.K > kernel.MaxK {
		k.Fast.U8I8(m, a, b, c)
		return
	}
	top := k.top
	defer func() { k.top = top }() // the activations and sums are scratch
	na, nc := m*b.K, m*b.N
	ao, co := k.alloc(na), k.alloc(4*nc)
	k.mem.Write(ao, a[:na])
	if _, err := k.gemm.Call(k.ctx, uint64(m), uint64(b.N), uint64(b.K), uint64(ao), uint64(w), uint64(co), uint64(b.N)); err != nil {
		panic("wazerokernel: gemm_u8i8: " + err.Error())
	}
	out, _ := k.mem.Read(co, uint32(4*nc))
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&c[0])), 4*nc), out)
}
