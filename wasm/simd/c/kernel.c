// WebAssembly SIMD128 kernels for the int8 engine. Built by `make simd`
// (clang --target=wasm32 -msimd128, no libc) into kernel.wasm, a module that
// imports Go's own linear memory (env.memory) and works on addresses Go
// passes in. It owns nothing in that memory: no data segments, no globals, no
// shadow stack (the build checks), so it can never write outside the buffers
// it is given. Only deterministic SIMD (no relaxed SIMD): every result equals
// the pure-Go kernels bit for bit.
#include <stdint.h>
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

// Sums the four lanes of each of s0..s3: {sum s0, sum s1, sum s2, sum s3}.
static inline v128_t hsum4(v128_t s0, v128_t s1, v128_t s2, v128_t s3) {
	v128_t t0 = wasm_i32x4_add(wasm_i32x4_shuffle(s0, s1, 0, 4, 1, 5), wasm_i32x4_shuffle(s0, s1, 2, 6, 3, 7));
	v128_t t1 = wasm_i32x4_add(wasm_i32x4_shuffle(s2, s3, 0, 4, 1, 5), wasm_i32x4_shuffle(s2, s3, 2, 6, 3, 7));
	return wasm_i32x4_add(wasm_i32x4_shuffle(t0, t1, 0, 1, 4, 5), wasm_i32x4_shuffle(t0, t1, 2, 3, 6, 7));
}

// Writes the first n (<= 4) lanes of v to c.
static inline void store_n(int32_t *c, v128_t v, int n) {
	if (n == 4) {
		wasm_v128_store(c, v);
		return;
	}
	c[0] = wasm_i32x4_extract_lane(v, 0);
	if (n > 1) c[1] = wasm_i32x4_extract_lane(v, 1);
	if (n > 2) c[2] = wasm_i32x4_extract_lane(v, 2);
}

// The scalar k tail (k % 8 columns) of one row against one panel.
static inline int32_t tail(const uint8_t *a, const int8_t *w, int kk, int k) {
	int32_t s = 0;
	for (int p = kk; p < k; p++) s += (int32_t)a[p] * (int32_t)w[p - kk];
	return s;
}

// The tails of one row against the 4 channels of a panel's last block.
static inline v128_t tail4(const uint8_t *a, const int8_t *w, int kk, int k) {
	return wasm_i32x4_make(tail(a, w, kk, k), tail(a, w + 8, kk, k), tail(a, w + 16, kk, k), tail(a, w + 24, kk, k));
}

// gemm_u8i8 computes C = A·Bᵀ exactly in int32: A is m x k uint8 (row-major,
// rows k bytes apart), C is m x n int32 (rows ldc apart), and B is n x k int8
// packed by Go (simd.Pack in wasm/simd/module.go) into panels of 4 output channels: panel p
// holds channels 4p..4p+3; for each block of 8 columns (k zero-padded to kp,
// a multiple of 8) the 8 bytes of each of the 4 channels, 32 bytes a block.
// Channels past n are zero. Products fit i16 pair sums (255*128*2 < 2^31)
// and i32 lanes (exact for k <= 65793, as the Go kernels).
EXPORT(gemm_u8i8)
void gemm_u8i8(int m, int n, int k, const uint8_t *a, const int8_t *b, int32_t *c, int ldc) {
	const int kp = (k + 7) & ~7, k8 = k & ~7, panels = (n + 3) / 4;
	// Panels are taken in groups of about 64 KB of weights, so a group stays
	// in cache while every row pair streams past it.
	int group = (64 << 10) / (4 * kp);
	if (group < 1) group = 1;
	for (int p0 = 0; p0 < panels; p0 += group) {
	int p1 = p0 + group < panels ? p0 + group : panels;
	int i = 0;
	for (; i + 2 <= m; i += 2) {
		const uint8_t *a0 = a + i * k, *a1 = a0 + k;
		int32_t *c0 = c + i * ldc, *c1 = c0 + ldc;
		for (int p = p0; p < p1; p++) {
			const int8_t *w = b + p * 4 * kp;
			v128_t s00 = wasm_i32x4_splat(0), s01 = s00, s02 = s00, s03 = s00;
			v128_t s10 = s00, s11 = s00, s12 = s00, s13 = s00;
			for (int kk = 0; kk < k8; kk += 8, w += 32) {
				v128_t x0 = wasm_u16x8_load8x8(a0 + kk), x1 = wasm_u16x8_load8x8(a1 + kk);
				v128_t w0 = wasm_i16x8_load8x8(w), w1 = wasm_i16x8_load8x8(w + 8);
				v128_t w2 = wasm_i16x8_load8x8(w + 16), w3 = wasm_i16x8_load8x8(w + 24);
				s00 = wasm_i32x4_add(s00, wasm_i32x4_dot_i16x8(x0, w0));
				s01 = wasm_i32x4_add(s01, wasm_i32x4_dot_i16x8(x0, w1));
				s02 = wasm_i32x4_add(s02, wasm_i32x4_dot_i16x8(x0, w2));
				s03 = wasm_i32x4_add(s03, wasm_i32x4_dot_i16x8(x0, w3));
				s10 = wasm_i32x4_add(s10, wasm_i32x4_dot_i16x8(x1, w0));
				s11 = wasm_i32x4_add(s11, wasm_i32x4_dot_i16x8(x1, w1));
				s12 = wasm_i32x4_add(s12, wasm_i32x4_dot_i16x8(x1, w2));
				s13 = wasm_i32x4_add(s13, wasm_i32x4_dot_i16x8(x1, w3));
			}
			v128_t r0 = hsum4(s00, s01, s02, s03), r1 = hsum4(s10, s11, s12, s13);
			if (k8 < k) {
				r0 = wasm_i32x4_add(r0, tail4(a0, w, k8, k));
				r1 = wasm_i32x4_add(r1, tail4(a1, w, k8, k));
			}
			int nn = n - 4 * p < 4 ? n - 4 * p : 4;
			store_n(c0 + 4 * p, r0, nn);
			store_n(c1 + 4 * p, r1, nn);
		}
	}
	for (; i < m; i++) {
		const uint8_t *a0 = a + i * k;
		int32_t *c0 = c + i * ldc;
		for (int p = p0; p < p1; p++) {
			const int8_t *w = b + p * 4 * kp;
			v128_t s00 = wasm_i32x4_splat(0), s01 = s00, s02 = s00, s03 = s00;
			for (int kk = 0; kk < k8; kk += 8, w += 32) {
				v128_t x0 = wasm_u16x8_load8x8(a0 + kk);
				s00 = wasm_i32x4_add(s00, wasm_i32x4_dot_i16x8(x0, wasm_i16x8_load8x8(w)));
				s01 = wasm_i32x4_add(s01, wasm_i32x4_dot_i16x8(x0, wasm_i16x8_load8x8(w + 8)));
				s02 = wasm_i32x4_add(s02, wasm_i32x4_dot_i16x8(x0, wasm_i16x8_load8x8(w + 16)));
				s03 = wasm_i32x4_add(s03, wasm_i32x4_dot_i16x8(x0, wasm_i16x8_load8x8(w + 24)));
			}
			v128_t r0 = hsum4(s00, s01, s02, s03);
			if (k8 < k) {
				r0 = wasm_i32x4_add(r0, tail4(a0, w, k8, k));
			}
			int nn = n - 4 * p < 4 ? n - 4 * p : 4;
			store_n(c0 + 4 * p, r0, nn);
		}
	}
}
}

// One channel's requantisation (kernel.Requant.At): floor((v + bias) * m /
// 2^(shift - 16)), with Go's two's-complement shifts and wrap-around.
static inline int64_t at(const int64_t *q, int64_t v) {
	int64_t p = (v + q[0]) * q[1];
	int64_t s = q[2] - 16;
	if (s >= 63) return p < 0 ? -1 : 0;
	if (s >= 0) return p >> s;
	if (s > -16) return (int64_t)((uint64_t)p << -s);
	return p < 0 ? INT64_MIN / 4 : INT64_MAX / 4;
}

// kernel.ToU8: round the 16-fraction-bit value, clamp to [0, 255].
static inline uint8_t to_u8(int64_t r) {
	int64_t v = (r + (1 << 15)) >> 16;
	return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v;
}

// True when every channel's shift is in the ordinary range (shift >= 16):
// then at() is ((v + bias) * m) >> min(shift - 16, 62) (for |p| < 2^62 a
// shift of 62 gives the same 0 or -1 as the s >= 63 case), with no branch.
static inline int ordinary(const int64_t *q, int c) {
	for (int j = 0; j < c; j++)
		if (q[3 * j + 2] < 16) return 0;
	return 1;
}

static inline int64_t at_ordinary(const int64_t *q, int64_t v) {
	int64_t s = q[2] - 16;
	return ((v + q[0]) * q[1]) >> (s > 62 ? 62 : s);
}

// Arithmetic shift right of both i64 lanes by s, from the logical shift
// (x86 has no 64-bit arithmetic shift before AVX-512, and V8's emulation of
// i64x2.shr_s is slow): for p < 0, ~((~p) >> s) = floor(p / 2^s).
static inline v128_t sar64(v128_t p, int s) {
	v128_t neg = wasm_i64x2_lt(p, wasm_i64x2_splat(0));
	return wasm_v128_xor(wasm_u64x2_shr(wasm_v128_xor(p, neg), s), neg);
}

// Shifts lane 0 of p right by s0 and lane 1 by s1 (wasm SIMD shifts all
// lanes alike).
static inline v128_t shr2(v128_t p, int s0, int s1) {
	if (s0 == s1) return sar64(p, s0);
	v128_t neg = wasm_i64x2_lt(p, wasm_i64x2_splat(0));
	v128_t x = wasm_v128_xor(p, neg);
	v128_t r = wasm_v128_bitselect(wasm_u64x2_shr(x, s0), wasm_u64x2_shr(x, s1), wasm_i64x2_make(-1, 0));
	return wasm_v128_xor(r, neg);
}

// Four channels' at() with 32-bit tables (kernel.Requant.V: bias, m,
// shift-16 per channel, c apart): accumulator + bias in i32 lanes (exact:
// V exists only where it cannot overflow), 32 x 32 -> 64-bit products.
static inline void at4(v128_t a, const int32_t *v, int c, int j, v128_t *lo, v128_t *hi) {
	v128_t x = wasm_i32x4_add(a, wasm_v128_load(v + j));
	v128_t m = wasm_v128_load(v + c + j);
	const int32_t *s = v + 2 * c + j;
	*lo = shr2(wasm_i64x2_extmul_low_i32x4(x, m), s[0], s[1]);
	*hi = shr2(wasm_i64x2_extmul_high_i32x4(x, m), s[2], s[3]);
}

// kernel.ToU8 of four 64-bit values, stored as 4 bytes: (r + 2^15) >> 16
// clamped to [0, 255] is r + 2^15 clamped to [0, 2^24 - 1], then shifted.
static inline void to_u8x4(v128_t lo, v128_t hi, uint8_t *out) {
	const v128_t half = wasm_i64x2_splat(1 << 15), zero = wasm_i64x2_splat(0), top = wasm_i64x2_splat((1 << 24) - 1);
	lo = wasm_i64x2_add(lo, half);
	hi = wasm_i64x2_add(hi, half);
	lo = wasm_v128_bitselect(lo, zero, wasm_i64x2_gt(lo, zero));
	hi = wasm_v128_bitselect(hi, zero, wasm_i64x2_gt(hi, zero));
	lo = wasm_v128_bitselect(lo, top, wasm_i64x2_lt(lo, top));
	hi = wasm_v128_bitselect(hi, top, wasm_i64x2_lt(hi, top));
	v128_t w = wasm_i32x4_shuffle(lo, hi, 0, 2, 4, 6); // each value < 2^24: the low halves
	w = wasm_u32x4_shr(w, 16);
	w = wasm_u8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(w, w), w);
	wasm_v128_store32_lane(out, w, 0);
}

// requant is kernel.Requant (RequantRef is the definition): rows x c
// accumulators to uint8, with an optional residual (res32: accumulators with
// their own requantisation rq; res8: uint8 inputs; both 0: none). q and rq
// hold {bias, m, shift} per channel; qv and rqv, when not 0, the same as
// 32-bit tables (kernel.Requant.V) for the SIMD path.
EXPORT(requant)
void requant(int rows, int c, const int32_t *acc, const int64_t *q, const int32_t *res32, const uint8_t *res8,
             const int64_t *rq, uint8_t *out, const int32_t *qv, const int32_t *rqv) {
	if (qv && (!(res32 || res8) || rqv) && c % 4 == 0) {
		for (int i = 0; i < rows; i++, acc += c, out += c) {
			for (int j = 0; j < c; j += 4) {
				v128_t lo, hi;
				at4(wasm_v128_load(acc + j), qv, c, j, &lo, &hi);
				if (res32 || res8) {
					v128_t r = res32 ? wasm_v128_load(res32 + j) : wasm_u32x4_extend_low_u16x8(wasm_u16x8_extend_low_u8x16(wasm_v128_load32_zero(res8 + j)));
					v128_t rlo, rhi;
					at4(r, rqv, c, j, &rlo, &rhi);
					lo = wasm_i64x2_add(lo, rlo);
					hi = wasm_i64x2_add(hi, rhi);
				}
				to_u8x4(lo, hi, out + j);
			}
			if (res32) res32 += c;
			if (res8) res8 += c;
		}
		return;
	}
	int fast = ordinary(q, c) && (!rq || ordinary(rq, c));
	for (int i = 0; i < rows; i++, acc += c, out += c) {
		if (res32) {
			if (fast)
				for (int j = 0; j < c; j++) out[j] = to_u8(at_ordinary(q + 3 * j, acc[j]) + at_ordinary(rq + 3 * j, res32[j]));
			else
				for (int j = 0; j < c; j++) out[j] = to_u8(at(q + 3 * j, acc[j]) + at(rq + 3 * j, res32[j]));
			res32 += c;
		} else if (res8) {
			if (fast)
				for (int j = 0; j < c; j++) out[j] = to_u8(at_ordinary(q + 3 * j, acc[j]) + at_ordinary(rq + 3 * j, res8[j]));
			else
				for (int j = 0; j < c; j++) out[j] = to_u8(at(q + 3 * j, acc[j]) + at(rq + 3 * j, res8[j]));
			res8 += c;
		} else if (fast) {
			for (int j = 0; j < c; j++) out[j] = to_u8(at_ordinary(q + 3 * j, acc[j]));
		} else {
			for (int j = 0; j < c; j++) out[j] = to_u8(at(q + 3 * j, acc[j]));
		}
	}
}
