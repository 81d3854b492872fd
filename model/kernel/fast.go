package kernel

// Fast is the portable fast implementation: register-tiled loops that fit Go's
// wasm backend (16 integer and 16 float registers, so 2x4 tiles) and, for
// int8, two output rows packed into the two 32-bit halves of one int64
// multiply-add.
type Fast struct{}

// F32 implements Kernels with 2x4 register tiles.
func (Fast) F32(m, n, k int, a, b, c []float32) {
	i := 0
	for ; i+2 <= m; i += 2 {
		a0 := a[i*k : i*k+k]
		a1 := a[(i+1)*k : (i+1)*k+k]
		c0 := c[i*n : i*n+n]
		c1 := c[(i+1)*n : (i+1)*n+n]
		j := 0
		for ; j+4 <= n; j += 4 {
			b0 := b[j*k : j*k+k]
			b1 := b[(j+1)*k : (j+1)*k+k]
			b2 := b[(j+2)*k : (j+2)*k+k]
			b3 := b[(j+3)*k : (j+3)*k+k]
			var s00, s01, s02, s03, s10, s11, s12, s13 float32
			for p := 0; p < k; p++ {
				x0, x1 := a0[p], a1[p]
				w0, w1, w2, w3 := b0[p], b1[p], b2[p], b3[p]
				s00 += x0 * w0
				s01 += x0 * w1
				s02 += x0 * w2
				s03 += x0 * w3
				s10 += x1 * w0
				s11 += x1 * w1
				s12 += x1 * w2
				s13 += x1 * w3
			}
			c0[j], c0[j+1], c0[j+2], c0[j+3] = s00, s01, s02, s03
			c1[j], c1[j+1], c1[j+2], c1[j+3] = s10, s11, s12, s13
		}
		for ; j < n; j++ {
			br := b[j*k : j*k+k]
			var s0, s1 float32
			for p := 0; p < k; p++ {
				s0 += a0[p] * br[p]
				s1 += a1[p] * br[p]
			}
			c0[j], c1[j] = s0, s1
		}
	}
	if i < m {
		Reference{}.F32(m-i, n, k, a[i*k:], b, c[i*n:])
	}
}

// U8I8 implements Kernels. Rows i and i+1 of A are packed as a0 | a1<<32 into
// one int64, so each multiply-add serves two outputs: w*(a0 + a1*2^32) =
// w*a0 + (w*a1)*2^32. The low half is a signed 32-bit sum (|sum| < 2^31 for
// k <= MaxK), recovered as int32(acc); the high half is (acc - lo) >> 32.
func (Fast) U8I8(m int, a []uint8, pb *PackedI8, c []int32) {
	Check(m, a, pb, c)
	n, k, b := pb.N, pb.K, pb.Raw
	if k > MaxK {
		Reference{}.U8I8(m, a, pb, c)
		return
	}
	packed := make([]int64, k)
	i := 0
	for ; i+2 <= m; i += 2 {
		a0 := a[i*k : i*k+k]
		a1 := a[(i+1)*k : (i+1)*k+k]
		for p := range packed {
			packed[p] = int64(a0[p]) | int64(a1[p])<<32
		}
		c0 := c[i*n : i*n+n]
		c1 := c[(i+1)*n : (i+1)*n+n]
		j := 0
		for ; j+4 <= n; j += 4 {
			b0 := b[j*k : j*k+k]
			b1 := b[(j+1)*k : (j+1)*k+k]
			b2 := b[(j+2)*k : (j+2)*k+k]
			b3 := b[(j+3)*k : (j+3)*k+k]
			var s0, s1, s2, s3 int64
			for p, x := range packed {
				s0 += int64(b0[p]) * x
				s1 += int64(b1[p]) * x
				s2 += int64(b2[p]) * x
				s3 += int64(b3[p]) * x
			}
			c0[j], c1[j] = unpack(s0)
			c0[j+1], c1[j+1] = unpack(s1)
			c0[j+2], c1[j+2] = unpack(s2)
			c0[j+3], c1[j+3] = unpack(s3)
		}
		for ; j < n; j++ {
			br := b[j*k : j*k+k]
			var s int64
			for p, x := range packed {
				s += int64(br[p]) * x
			}
			c0[j], c1[j] = unpack(s)
		}
	}
	if i < m {
		Reference{}.U8I8(m-i, a[i*k:], pb, c[i*n:])
	}
}

// Requant implements Kernels.
func (Fast) Requant(rows int, acc []int32, q *Requant, res32 []int32, res8 []uint8, rq *Requant, out []uint8) {
	RequantRef(rows, acc, q, res32, res8, rq, out)
}

// PackI8 implements Kernels: Fast works on the row-major weights.
func (Fast) PackI8(n, k int, b []int8) *PackedI8 { return Raw(n, k, b) }

// unpack splits a two-lane accumulator into its low and high int32 sums.
func unpack(s int64) (lo, hi int32) {
	lo = int32(s)
	hi = int32((s - int64(lo)) >> 32)
	return lo, hi
}
