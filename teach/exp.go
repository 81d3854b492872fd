package teach

import "math"

// The training path must give the same bits on every platform. Go's
// math.Exp has assembly versions (amd64, arm64, s390x) that may differ in the
// last bit from the pure-Go one js/wasm runs, so training uses exp below:
// Cody-Waite range reduction and a Taylor polynomial, every product rounded
// explicitly with a float64(...) conversion so that no compiler may fuse
// x*y+z into an FMA. It needs only +, -, *, math.Floor and math.Ldexp, all
// exact or exactly rounded everywhere.

const (
	ln2Hi = 6.93147180369123816490e-01 // ln 2, upper bits: k*ln2Hi is exact for |k| < 2^20
	ln2Lo = 1.90821492927058770002e-10 // ln 2 - ln2Hi
	log2e = 1.44269504088896338700e+00
)

// invFact[n] is 1/n!, n = 0..13 (correctly rounded constants).
var invFact = [...]float64{
	1, 1, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040,
	1.0 / 40320, 1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600,
	1.0 / 6227020800,
}

// exp is e^x, within a few units in the last place of math.Exp, and
// bit-identical on every platform. It saturates: 0 below -745, +Inf above
// 709.78; NaN gives NaN.
func exp(x float64) float64 {
	switch {
	case x != x:
		return x
	case x < -745.2:
		return 0
	case x > 709.78:
		return math.Inf(1)
	}
	k := math.Floor(float64(x*log2e) + 0.5)
	// r = x - k ln 2, |r| <= ln2/2 (+ a little), in two exact-ish steps.
	r := float64(x-float64(k*ln2Hi)) - float64(k*ln2Lo)
	// e^r = sum r^n/n!, n <= 13: the first term left out is below 2^-59.
	p := invFact[13]
	for n := 12; n >= 0; n-- {
		p = float64(p*r) + invFact[n]
	}
	return math.Ldexp(p, int(k))
}
