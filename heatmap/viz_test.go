package heatmap

import (
	"testing"

	"github.com/bagnetweb/bagnet/ui/viz"
)

// The browser UI draws with ui/viz.Diverging: the CLI's pictures must use the
// same colours (within rounding).
func TestSameColoursAsBrowser(t *testing.T) {
	const n = 1000
	for k := -n - 50; k <= n+50; k++ {
		v := float32(k) / n * 3
		got, want := Color(v, 3), viz.Diverging(v, 3)
		for _, d := range []int{int(got.R) - int(want.R), int(got.G) - int(want.G), int(got.B) - int(want.B)} {
			if d < -1 || d > 1 {
				t.Fatalf("Color(%v, 3) = %v, browser %v", v, got, want)
			}
		}
	}
}
