//go:build !js

// Package tensorkernel is the native float32 kernel: GEMM through
// gorgonia.org/tensor's BLAS-backed MatMul (about 2.7x the plain Go loops
// natively). Native tools (the CLI's float reference path, calibration and
// eval) plug it in with net.Kernels = tensorkernel.Kernels{}.
//
// The browser builds never link it: gorgonia adds 20.6 MB raw / 3.6 MB gzip
// to a wasm binary. The build constraint keeps it out of js/wasm and a test
// checks the wasm programs' dependency lists.
package tensorkernel

import (
	"github.com/bagnetweb/bagnet/model/kernel"
	"gorgonia.org/tensor"
)

// Kernels implements kernel.Kernels: F32 via BLAS Sgemm (A·Bᵀ without copying
// B), U8I8 via the exact pure-Go kernel.
type Kernels struct{}

// F32 implements kernel.Kernels.
func (Kernels) F32(m, n, k int, a, b, c []float32) {
	if m == 0 || n == 0 {
		return
	}
	A := tensor.New(tensor.WithShape(m, k), tensor.WithBacking(a[:m*k]))
	B := tensor.New(tensor.WithShape(n, k), tensor.WithBacking(b[:n*k]))
	C := tensor.New(tensor.WithShape(m, n), tensor.WithBacking(c[:m*n]))
	if err := B.T(); err == nil {
		if _, err = A.MatMul(B, tensor.WithReuse(C)); err == nil {
			return
		}
	}
	kernel.Fast{}.F32(m, n, k, a, b, c) // shapes BLAS refuses (k == 0)
}

// Requant implements kernel.Kernels.
func (Kernels) Requant(rows int, acc []int32, q *kernel.Requant, res32 []int32, res8 []uint8, rq *kernel.Requant, out []uint8) {
	kernel.RequantRef(rows, acc, q, res32, res8, rq, out)
}

// PackI8 implements kernel.Kernels.
func (Kernels) PackI8(n, k int, b []int8) *kernel.PackedI8 { return kernel.Fast{}.PackI8(n, k, b) }

// U8I8 implements kernel.Kernels.
func (Kernels) U8I8(m int, a []uint8, b *kernel.PackedI8, c []int32) {
	kernel.Fast{}.U8I8(m, a, b, c)
}
