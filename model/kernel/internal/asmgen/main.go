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
