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
	// PackI8 prepares the n x k int8 weight matrix b (row-major) for U8I8,
	// in whatever layout the implementation wants. The model packs every
	// layer's weights once, when it is loaded, not on every call.
	PackI8(n, k int, b []int8) *PackedI8
	// U8I8 computes C = A·Bᵀ exactly in int32 for the m x b.K uint8
	// activations a and int8 weights b packed by this implementation's
	// PackI8 (c, m x b.N, is overwritten). Implementations must be exact,
	// so every implementation gives bit-identical results.
	U8I8(m int, a []uint8, b *PackedI8, c []int32)
	// Requant turns rows x q.C accumulators into uint8 activations:
	// out = ToU8(q.At(acc) [+ rq.At(residual)]), the residual being res32
	// (a downsample conv's accumulators) or res8 (the block's input), or
	// none when both are nil. Exact: RequantRef is the definition.
	Requant(rows int, acc []int32, q *Requant, res32 []int32, res8 []uint8, rq *Requant, out []uint8)
}

// PackedI8 is an n x k int8 weight matrix prepared by a Kernels' PackI8.
type PackedI8 struct {
	N, K int
	Raw  []int8 // row-major n x k, as given
	Data []int8 // the implementation's own layout; nil when it uses Raw
	// Wide is the implementation's own layout in 16-bit values (AVX2
	// keeps its weights widened); nil when it uses none.
	Wide []int16
}

// Raw is PackI8 for implementations that work on the row-major weights.
func Raw(n, k int, b []int8) *PackedI8 {
	if len(b) != n*k {
		panic("kernel: PackI8: weights do not hold n*k values")
	}
	return &PackedI8{N: n, K: k, Raw: b}
}

// Check panics unless a and c are large enough for an m-row U8I8 with b: a
// kernel that writes through raw addresses (WASM SIMD) must never be handed
// short buffers.
func Check(m int, a []uint8, b *PackedI8, c []int32) {
	if m < 0 || len(a) < m*b.K || len(c) < m*b.N {
		panic("kernel: U8I8: buffers too small for the shapes")
	}
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

// Requant implements Kernels.
func (Reference) Requant(rows int, acc []int32, q *Requant, res32 []int32, res8 []uint8, rq *Requant, out []uint8) {
	RequantRef(rows, acc, q, res32, res8, rq, out)
}

// PackI8 implements Kernels.
func (Reference) PackI8(n, k int, b []int8) *PackedI8 { return Raw(n, k, b) }

// U8I8 implements Kernels.
func (Reference) U8I8(m int, a []uint8, p *PackedI8, c []int32) {
	Check(m, a, p, c)
	n, k, b := p.N, p.K, p.Raw
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

// Default is the fastest exact implementation this CPU runs without cgo,
// what a network runs on unless it is given others (QNet.UseKernels,
// Net.Kernels): Native when there is one (AVX2 assembly on amd64), else
// the pure-Go Fast (every other platform, js/wasm included). A function,
// not a variable: kernels are chosen per network, never by a package
// global.
func Default() Kernels {
	if k := Native(); k != nil {
		return k
	}
	return Fast{}
}
