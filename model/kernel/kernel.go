// Package kernel holds the matrix kernels the BagNet forward pass runs on.
//
// Every convolution is lowered to one GEMM in "NT" form:
//
//	C[i][j] = sum_k A[i][k] * B[j][k]
//
// with A the m x k activations (one row per output position, im2col'd for
// 3x3 convs), B the n x k weights (one row per output channel) and C the
// m x n output, all row-major. The model code only sees the Kernels
// interface, so faster implementations (WASM SIMD, worker parallelism, BLAS)
// plug in without touching it.
package kernel

// Kernels computes the two GEMMs of the forward passes.
type Kernels interface {
	// F32 computes C = A·Bᵀ in float32 (c is overwritten).
	F32(m, n, k int, a, b, c []float32)
	// U8I8 computes C = A·Bᵀ exactly in int32 for uint8 activations and
	// int8 weights (c is overwritten). Implementations must be exact, so
	// every implementation gives bit-identical results.
	U8I8(m, n, k int, a []uint8, b []int8, c []int32)
}

// MaxK is the largest inner dimension U8I8 accepts: the packed kernel keeps
// two 32-bit lanes in one int64 and stays exact while 128*255*K < 2^31.
const MaxK = 65793

// Reference is the plain triple loop: the definition the others are tested against.
type Reference struct{}

// F32 implements Kernels.
func (Reference) F32(m, n, k int, a, b, c []float32) {
	for i := 0; i < m; i++ {
		ar := a[i*k : i*k+k]
		for j := 0; j < n; j++ {
			br := b[j*k : j*k+k]
			var s float32
			for p := range ar {
				s += ar[p] * br[p]
			}
			c[i*n+j] = s
		}
	}
}

// U8I8 implements Kernels.
func (Reference) U8I8(m, n, k int, a []uint8, b []int8, c []int32) {
	for i := 0; i < m; i++ {
		ar := a[i*k : i*k+k]
		for j := 0; j < n; j++ {
			br := b[j*k : j*k+k]
			var s int32
			for p := range ar {
				s += int32(ar[p]) * int32(br[p])
			}
			c[i*n+j] = s
		}
	}
}

// Default is the fastest pure-Go implementation, used unless a caller plugs
// in another.
var Default Kernels = Fast{}
