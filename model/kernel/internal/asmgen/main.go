//go:build !js

// Command asmgen writes model/kernel's AVX2 assembly (u8i8_amd64.s) and its
// Go declarations with avo. It is the module's tool: run it through
// `go generate ./model/kernel` (go tool asmgen ...), never by hand-editing
// the output.
//
// The int8 GEMM widens both operands to int16 (vpmovzxbw on the uint8
// activations at load time; the weights are stored widened by PackI8) and
// multiplies them with vpmaddwd: 16 exact products a instruction, summed in
// pairs into int32 lanes (|2*255*128| fits easily). vpmaddubsw would do 32 a
// instruction on the bytes directly, but it saturates its pair sums at
// int16 for 8-bit activations, so it is not used.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// nr is the panel width (output channels a tile), fixed by the weight
// layout; rows are the tile heights generated.
const nr = 4

var rows = []int{1, 2, 3}

func main() {
	ConstraintExpr("amd64,!purego")
	for _, mr := range rows {
		gemm(mr)
	}
	for _, mode := range []string{"", "Res32", "Res8"} {
		requant(mode)
	}
	Generate()
}

// gemm writes gemmAVX2x<mr>: rows a[0], a[lda], ... (mr of them) against
// `panels` consecutive weight panels of 4 channels, writing 4 int32 a panel
// to each of the mr output rows (ldc int32s apart). A panel is kb blocks of
// 16 columns (4 channels x 16 int16, channel after channel), then, when half
// is not 0, one more block of which only the first 8 columns are read.
func gemm(mr int) {
	TEXT(fmt.Sprintf("gemmAVX2x%d", mr), NOSPLIT, "func(a *uint8, lda int, w *int16, kb int, half int, panels int, c *int32, ldc int)")
	Pragma("noescape")
	Doc(fmt.Sprintf("gemmAVX2x%d computes a %d-row tile of C = A·Bᵀ against panels of 4 int16-widened weight rows.", mr, mr))
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	w := Load(Param("w"), GP64())
	kb := Load(Param("kb"), GP64())
	half := Load(Param("half"), GP64())
	panels := Load(Param("panels"), GP64())
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc) // bytes
	lda2 := GP64()
	MOVQ(lda, lda2)
	SHLQ(U8(1), lda2)
	row := func(r int, disp int) Mem {
		switch r {
		case 0:
			return Mem{Base: a, Disp: disp}
		case 1:
			return Mem{Base: a, Index: lda, Scale: 1, Disp: disp}
		default:
			return Mem{Base: a, Index: lda2, Scale: 1, Disp: disp}
		}
	}
	crow := func(r int) Mem {
		switch r {
		case 0:
			return Mem{Base: c}
		case 1:
			return Mem{Base: c, Index: ldc, Scale: 1}
		default: // r == 2
			return Mem{Base: c, Index: ldc, Scale: 2}
		}
	}
	acc := make([][]VecVirtual, mr)
	for r := range acc {
		acc[r] = make([]VecVirtual, nr)
		for j := range acc[r] {
			acc[r][j] = YMM()
		}
	}
	x := make([]VecVirtual, mr)
	for r := range x {
		x[r] = YMM()
	}
	p := YMM()
	a0 := GP64()
	n := GP64()

	Label("panel")
	TESTQ(panels, panels)
	JZ(LabelRef("done"))
	for r := range acc {
		for j := range acc[r] {
			VPXOR(acc[r][j], acc[r][j], acc[r][j])
		}
	}
	MOVQ(a, a0) // the panel's columns start again at the rows' starts
	MOVQ(kb, n)

	Label("block")
	TESTQ(n, n)
	JZ(LabelRef("tail"))
	for r := 0; r < mr; r++ {
		VPMOVZXBW(row(r, 0), x[r])
	}
	for j := 0; j < nr; j++ {
		for r := 0; r < mr; r++ {
			VPMADDWD(Mem{Base: w, Disp: 32 * j}, x[r], p)
			VPADDD(p, acc[r][j], acc[r][j])
		}
	}
	ADDQ(U8(16), a)
	ADDQ(U32(32*nr), w)
	DECQ(n)
	JMP(LabelRef("block"))

	// The last 8 columns (k % 16 >= 8): 128-bit operations, whose results
	// have zero upper halves, added to the 256-bit sums.
	Label("tail")
	TESTQ(half, half)
	JZ(LabelRef("reduce"))
	for r := 0; r < mr; r++ {
		VPMOVZXBW(row(r, 0), x[r].AsX())
	}
	for j := 0; j < nr; j++ {
		for r := 0; r < mr; r++ {
			VPMADDWD(Mem{Base: w, Disp: 32 * j}, x[r].AsX(), p.AsX())
			VPADDD(p, acc[r][j], acc[r][j])
		}
	}
	ADDQ(U32(32*nr), w)

	// Each row's 4 sums of 8 lanes -> 4 int32, stored at c.
	Label("reduce")
	for r := 0; r < mr; r++ {
		s := acc[r]
		VPHADDD(s[1], s[0], s[0])
		VPHADDD(s[3], s[2], s[2])
		VPHADDD(s[2], s[0], s[0])
		VEXTRACTI128(U8(1), s[0], s[1].AsX())
		VPADDD(s[1].AsX(), s[0].AsX(), s[0].AsX())
		VMOVDQU(s[0].AsX(), crow(r))
	}
	MOVQ(a0, a)
	ADDQ(U8(16), c)
	DECQ(panels)
	JMP(LabelRef("panel"))

	Label("done")
	VZEROUPPER()
	RET()
}

// requant writes requantAVX2<mode>: kernel.Requant on the 32-bit tables
// (Requant.V: bias, multiplier, shift-16 per channel, c apart) for rows x c
// accumulators, c a multiple of 8, with no residual, a res32 residual
// (accumulators with the table rv) or a res8 one (uint8 inputs with rv).
// Each value is ((x + bias) * m) >> s in 64 bits (vpmuldq on the even and
// the odd lanes; the arithmetic shift, which AVX2 lacks for 64-bit lanes,
// as ~(~p >> s) for p < 0), the two summed, then ToU8: + 2^15, clamped to
// [0, 2^24), >> 16.
func requant(mode string) {
	sig := "func(rows int, c int, acc *int32, v *int32, out *uint8)"
	switch mode {
	case "Res32":
		sig = "func(rows int, c int, acc *int32, v *int32, out *uint8, res *int32, rv *int32)"
	case "Res8":
		sig = "func(rows int, c int, acc *int32, v *int32, out *uint8, res *uint8, rv *int32)"
	}
	TEXT("requantAVX2"+mode, NOSPLIT, sig)
	Pragma("noescape")
	Doc("requantAVX2" + mode + " is Requant on the 32-bit tables; c is a multiple of 8.")
	rows := Load(Param("rows"), GP64())
	c := Load(Param("c"), GP64())
	acc := Load(Param("acc"), GP64())
	v := Load(Param("v"), GP64())
	out := Load(Param("out"), GP64())
	var res, rv Register
	if mode != "" {
		res = Load(Param("res"), GP64())
		rv = Load(Param("rv"), GP64())
	}
	c4 := GP64() // c * 4: the distance between the tables' parts
	MOVQ(c, c4)
	SHLQ(U8(2), c4)

	zero, low, half, top := YMM(), YMM(), YMM(), YMM()
	VPXOR(zero, zero, zero)
	VPCMPEQD(low, low, low)
	VPSRLQ(U8(32), low, low)
	t := GP64()
	MOVQ(U32(1<<15), t)
	VMOVQ(t, half.AsX())
	VPBROADCASTQ(half.AsX(), half)
	MOVQ(U32(1<<24-1), t)
	VMOVQ(t, top.AsX())
	VPBROADCASTQ(top.AsX(), top)

	// tables splits a table's address into its bias, multiplier and shift
	// parts.
	tables := func(tab Register) [3]Register {
		var r [3]Register
		for i := range r {
			r[i] = GP64()
			LEAQ(Mem{Base: tab, Index: c4, Scale: 1, Disp: 0}, r[i])
		}
		MOVQ(tab, r[0])
		ADDQ(c4, r[2])
		return r
	}
	vt := tables(v)
	var rt [3]Register
	if mode != "" {
		rt = tables(rv)
	}
	ev, od, m, sh, xo, neg := YMM(), YMM(), YMM(), YMM(), YMM(), YMM()
	// value computes the 64-bit values of x's 8 channels at j with table
	// tab: the even lanes (0, 2, 4, 6) into ev and the odd ones into od, or
	// added to them.
	value := func(x VecVirtual, tab [3]Register, j Register, addTo bool) {
		e, o := ev, od
		if addTo {
			e, o = YMM(), YMM()
		}
		VPADDD(Mem{Base: tab[0], Index: j, Scale: 4}, x, x)
		VMOVDQU(Mem{Base: tab[1], Index: j, Scale: 4}, m)
		VPMULDQ(m, x, e)
		VPSRLQ(U8(32), x, xo)
		VPSRLQ(U8(32), m, m)
		VPMULDQ(m, xo, o)
		VMOVDQU(Mem{Base: tab[2], Index: j, Scale: 4}, sh)
		for i, p := range []VecVirtual{e, o} {
			cnt := YMM()
			if i == 0 {
				VPAND(low, sh, cnt)
			} else {
				VPSRLQ(U8(32), sh, cnt)
			}
			VPCMPGTQ(p, zero, neg) // p < 0
			VPXOR(neg, p, p)
			VPSRLVQ(cnt, p, p)
			VPXOR(neg, p, p)
		}
		if addTo {
			VPADDQ(e, ev, ev)
			VPADDQ(o, od, od)
		}
	}

	Label("row")
	TESTQ(rows, rows)
	JZ(LabelRef("done"))
	j := GP64()
	XORQ(j, j)
	Label("chunk")
	x := YMM()
	VMOVDQU(Mem{Base: acc, Index: j, Scale: 4}, x)
	value(x, vt, j, false)
	switch mode {
	case "Res32":
		r := YMM()
		VMOVDQU(Mem{Base: res, Index: j, Scale: 4}, r)
		value(r, rt, j, true)
	case "Res8":
		r := YMM()
		VPMOVZXBD(Mem{Base: res, Index: j, Scale: 1}, r)
		value(r, rt, j, true)
	}
	mask := YMM()
	for _, p := range []VecVirtual{ev, od} {
		VPADDQ(half, p, p)
		VPCMPGTQ(zero, p, mask) // p > 0
		VPAND(mask, p, p)
		VPCMPGTQ(top, p, mask) // p > 2^24 - 1
		VPBLENDVB(mask, top, p, p)
		VPSRLQ(U8(16), p, p)
	}
	VPSLLQ(U8(32), od, od)
	VPOR(od, ev, ev)
	hi := XMM()
	VEXTRACTI128(U8(1), ev, hi)
	VPACKUSDW(hi, ev.AsX(), hi)
	VPACKUSWB(hi, hi, hi)
	VMOVQ(hi, Mem{Base: out, Index: j, Scale: 1})
	ADDQ(U8(8), j)
	CMPQ(j, c)
	JL(LabelRef("chunk"))

	LEAQ(Mem{Base: acc, Index: c4, Scale: 1}, acc)
	ADDQ(c, out)
	switch mode {
	case "Res32":
		ADDQ(c4, res)
	case "Res8":
		ADDQ(c, res)
	}
	DECQ(rows)
	JMP(LabelRef("row"))

	Label("done")
	VZEROUPPER()
	RET()
}
