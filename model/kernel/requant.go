package kernel

import "math"

// Requantisation: int32 accumulators back to uint8 activations with integer
// arithmetic only, so every platform and kernel gives the same bytes.

// FracBits is the precision (fraction bits) of requantised values before
// rounding, and of the residual sum.
const FracBits = 16

// Requant holds one layer's per-channel requantisation: for an accumulator a
// of channel c, value = floor((a + bias[c]) * M[c] / 2^(shift[c]-FracBits)),
// a fixed-point number with FracBits fraction bits. P is laid out as the
// SIMD module reads it: per channel {bias, M, shift}.
type Requant struct {
	C int
	P []int64 // [C][3]: bias (accumulator units), M in [2^30, 2^31) (or 0), shift

	// V is the same table for 32-bit SIMD lanes, [bias C][M C][shift-16 C]
	// as int32 (shift-16 capped at 62: for |p| < 2^62 that gives the same
	// 0 or -1 as larger shifts), when that is exact for every input: each
	// shift is at least 16 and accumulator + bias cannot leave int32. Else
	// nil.
	V []int32
}

// NewRequant makes the requantisation of C channels with the given biases
// (in accumulator units, |bias| <= 2^30) and real multipliers (accumulator
// unit -> output unit; 0 for none) for accumulators of k products of a
// uint8 and an int8 (k = 1 for uint8 inputs).
func NewRequant(bias []int64, mult []float64, k int) *Requant {
	C := len(mult)
	q := &Requant{C: C, P: make([]int64, 3*C)}
	v := make([]int32, 3*C)
	bound := int64(255*128) * int64(k) // the largest |accumulator|
	for c, x := range mult {
		m, shift := fixedPoint(x)
		var b int64
		if bias != nil {
			b = bias[c]
		}
		q.P[3*c], q.P[3*c+1], q.P[3*c+2] = b, m, int64(shift)
		if shift < FracBits || bound+max(b, -b) >= 1<<31 {
			v = nil
		}
		if v != nil {
			v[c], v[C+c], v[2*C+c] = int32(b), int32(m), int32(min(shift-FracBits, 62))
		}
	}
	q.V = v
	return q
}

// fixedPoint writes a positive real x as m / 2^shift with m in [2^30, 2^31).
func fixedPoint(x float64) (int64, int) {
	if !(x > 0) || math.IsInf(x, 0) {
		return 0, 0
	}
	frac, exp := math.Frexp(x)
	m := int64(math.Round(frac * (1 << 31)))
	shift := 31 - exp
	if m == 1<<31 {
		m >>= 1
		shift--
	}
	return m, shift
}

// At is channel c's value for accumulator v (|v + bias| < 2^31 keeps the
// product inside int64).
func (q *Requant) At(c int, v int64) int64 {
	p := (v + q.P[3*c]) * q.P[3*c+1]
	s := q.P[3*c+2] - FracBits
	switch {
	case s >= 63:
		if p < 0 {
			return -1
		}
		return 0
	case s >= 0:
		return p >> s
	case s > -16:
		return p << -s
	default: // a multiplier above 2^47: saturate
		if p < 0 {
			return math.MinInt64 / 4
		}
		return math.MaxInt64 / 4
	}
}

// ToU8 rounds a FracBits fixed-point value and clamps it to [0, 255] (the ReLU).
func ToU8(r int64) uint8 {
	v := (r + 1<<(FracBits-1)) >> FracBits
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// RequantRef is the definition of Kernels.Requant.
func RequantRef(rows int, acc []int32, q *Requant, res32 []int32, res8 []uint8, rq *Requant, out []uint8) {
	CheckRequant(rows, acc, q, res32, res8, rq, out)
	C := q.C
	for i := 0; i < rows*C; i += C {
		for c := 0; c < C; c++ {
			v := q.At(c, int64(acc[i+c]))
			switch {
			case res32 != nil:
				v += rq.At(c, int64(res32[i+c]))
			case res8 != nil:
				v += rq.At(c, int64(res8[i+c]))
			}
			out[i+c] = ToU8(v)
		}
	}
}

// CheckRequant panics unless the buffers fit the shapes (a kernel that
// writes through raw addresses must never be handed short buffers).
func CheckRequant(rows int, acc []int32, q *Requant, res32 []int32, res8 []uint8, rq *Requant, out []uint8) {
	n := rows * q.C
	ok := rows >= 0 && len(acc) >= n && len(out) >= n && len(q.P) == 3*q.C
	if res32 != nil || res8 != nil {
		ok = ok && rq != nil && rq.C == q.C && len(rq.P) == 3*q.C && (res32 == nil || len(res32) >= n) && (res8 == nil || len(res8) >= n)
	}
	if !ok {
		panic("kernel: Requant: buffers too small for the shapes")
	}
}
