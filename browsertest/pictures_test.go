package browsertest

import (
	"fmt"
	"image"
	"testing"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/bagnetweb/bagnet/geom"
	"github.com/bagnetweb/bagnet/model"
)

// countDrawsJS counts the pixels put on any canvas of the page from now on.
const countDrawsJS = `(() => {
	const p = CanvasRenderingContext2D.prototype;
	if (!p.bagnetOrigPut) {
		p.bagnetOrigPut = p.putImageData;
		p.putImageData = function (...args) { window.bagnetDraws++; return p.bagnetOrigPut.apply(this, args); };
	}
	window.bagnetDraws = 0;
})()`

// Pointing at patches of the heatmap names the patch under the pointer and
// redraws only the picture of that patch: every other picture (the
// overlay, the evidence grids, the extreme patches) stays as drawn, and
// intact, through the renders the pointer causes.
func TestHoverRedraws(t *testing.T) {
	t.Parallel() // independent tabs (see newTab)
	tb := newTab(t)
	tb.open(suite.srv.URL)
	tb.classifyTench()
	box := tb.still("#heatmap")
	before := tb.picture("#heatmap")
	if _, err := chromedp.Run(tb.ctx, chromedp.Evaluate[chromedp.Void](countDrawsJS)); err != nil {
		t.Fatal(err)
	}

	size, patch := suite.eng.InputSize, suite.eng.Config.Patch()
	h, w := suite.eng.Config.MapSize(size, size)
	cells := [][2]int{{0, 0}, {h / 2, w / 2}, {h - 1, w - 1}, {1, w - 2}, {h / 3, 2}}
	for _, c := range cells {
		cell := geom.Cell(c[0], c[1], model.Stride, patch)
		// The middle of the cell's central stride-square.
		x := float64(cell.X0+cell.X1) / 2
		y := float64(cell.Y0+cell.Y1) / 2
		px, py := box[0]+x/float64(size)*box[2], box[1]+y/float64(size)*box[3]
		if err := chromedp.Do(tb.ctx, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, px, py)); err != nil {
			t.Fatal(err)
		}
		// 0-based, row then column: as `bagnet patches` names cells.
		want := fmt.Sprintf("Patch at cell (%d,%d): pixels %d–%d × %d–%d", c[0], c[1], cell.X0, cell.X1-1, cell.Y0, cell.Y1-1)
		if _, ok := tb.tryWaitFor(fmt.Sprintf(`document.querySelector(".hover-title")?.textContent === %q ? "yes" : ""`, want), stateTimeout); !ok {
			t.Fatalf("pointing at cell %v: the page says %q, want %q", c, tb.text(".hover-title"), want)
		}
	}
	draws, err := chromedp.Run(tb.ctx, chromedp.Evaluate[int](`window.bagnetDraws`))
	if err != nil {
		t.Fatal(err)
	}
	// One picture per move: the patch under the pointer.
	if draws != len(cells) {
		t.Errorf("%d pointer moves drew %d pictures, want %d (the hovered patch's)", len(cells), draws, len(cells))
	}
	after := tb.picture("#heatmap")
	if n := pixelsDiffer(before, after); n != 0 {
		t.Errorf("the overlay changed under the pointer (%v, then %v): %d pixels differ", before.Bounds(), after.Bounds(), n)
	}
}

// pixelsDiffer counts the pixels that differ between a and b (all of a's
// when their bounds differ).
func pixelsDiffer(a, b image.Image) int {
	r := a.Bounds()
	if r != b.Bounds() {
		return r.Dx() * r.Dy()
	}
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				n++
			}
		}
	}
	return n
}
