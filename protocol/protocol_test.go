package protocol

import (
	"math"
	"os/exec"
	"strings"
	"testing"

	"github.com/bagnetweb/bagnet/preprocess"
)

func TestTransformToSource(t *testing.T) {
	tests := []struct {
		t              Transform
		box            [4]int
		x0, y0, x1, y1 int
		ok             bool
	}{
		// Squash 500x375 to 128x128: x scales by 500/128, y by 375/128.
		{Transform{Size: 128, SrcW: 500, SrcH: 375, ResizedW: 128, ResizedH: 128}, [4]int{0, 0, 128, 128}, 0, 0, 500, 375, true},
		{Transform{Size: 128, SrcW: 500, SrcH: 375, ResizedW: 128, ResizedH: 128}, [4]int{32, 64, 65, 97}, 125, 187, 254, 285, true},
		// Crop: 640x480 resized to 171x128, centre 128 pixels (offset 21).
		{Transform{Size: 128, SrcW: 640, SrcH: 480, ResizedW: 171, ResizedH: 128, OffX: 21}, [4]int{0, 0, 128, 128}, 78, 0, 558, 480, true},
		{Transform{}, [4]int{0, 0, 1, 1}, 0, 0, 0, 0, false},
	}
	for _, tt := range tests {
		x0, y0, x1, y1, ok := tt.t.ToSource(tt.box[0], tt.box[1], tt.box[2], tt.box[3])
		if ok != tt.ok || x0 != tt.x0 || y0 != tt.y0 || x1 != tt.x1 || y1 != tt.y1 {
			t.Errorf("%+v.ToSource(%v) = %d %d %d %d %v, want %d %d %d %d %v", tt.t, tt.box, x0, y0, x1, y1, ok,
				tt.x0, tt.y0, tt.x1, tt.y1, tt.ok)
		}
	}
}

// The page's mapping agrees with package preprocess's, which made the input.
func TestTransformMatchesPreprocess(t *testing.T) {
	for _, mode := range []preprocess.Mode{preprocess.Squash, preprocess.Crop} {
		for _, src := range [][2]int{{500, 375}, {335, 500}, {640, 426}, {128, 128}} {
			pt := preprocess.NewTransform(mode, 128, src[0], src[1])
			ut := Transform{Mode: string(pt.Mode), Size: pt.Size, SrcW: pt.SrcW, SrcH: pt.SrcH,
				ResizedW: pt.ResizedW, ResizedH: pt.ResizedH, OffX: pt.OffX, OffY: pt.OffY}
			for _, b := range [][4]int{{0, 0, 128, 128}, {8, 16, 41, 49}, {88, 88, 121, 121}} {
				fx0, fy0, fx1, fy1 := pt.ToSource(float64(b[0]), float64(b[1]), float64(b[2]), float64(b[3]))
				x0, y0, x1, y1, ok := ut.ToSource(b[0], b[1], b[2], b[3])
				want := [4]int{int(math.Floor(fx0 + 1e-9)), int(math.Floor(fy0 + 1e-9)),
					min(src[0], int(math.Ceil(fx1-1e-9))), min(src[1], int(math.Ceil(fy1-1e-9)))}
				if !ok || [4]int{x0, y0, x1, y1} != want {
					t.Errorf("%s %v box %v: got %v, preprocess says %v", mode, src, b, [4]int{x0, y0, x1, y1}, want)
				}
			}
		}
	}
}

func TestRGBA(t *testing.T) {
	got := RGBA([]uint8{1, 2, 3, 4, 5, 6})
	want := []uint8{1, 2, 3, 255, 4, 5, 6, 255}
	if string(got) != string(want) {
		t.Errorf("RGBA = %v, want %v", got, want)
	}
}

// The page links the protocol, not the engine; the worker links the
// protocol, not the UI (its wire types came from ui/viz and ui before).
func TestWhoLinksWhat(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	deps := func(pkg string) string {
		cmd := exec.Command("go", "list", "-deps", pkg)
		cmd.Dir = ".."
		cmd.Env = append(cmd.Environ(), "GOOS=js", "GOARCH=wasm")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		return string(out)
	}
	const mod = "github.com/bagnetweb/bagnet/"
	for _, tt := range []struct {
		pkg       string
		must, not []string
	}{
		{"./wasm/app", []string{mod + "protocol\n", mod + "ui\n"}, []string{mod + "engine\n", mod + "model\n", mod + "weights\n", mod + "preprocess\n"}},
		{"./wasm/worker", []string{mod + "protocol\n", mod + "engine\n"}, []string{mod + "ui", "github.com/vugu/"}},
		{"./protocol", nil, []string{mod + "engine", mod + "model", mod + "ui", "golang.org/x/"}},
	} {
		d := deps(tt.pkg)
		for _, m := range tt.must {
			if !strings.Contains(d, m) {
				t.Errorf("%s does not link %s", tt.pkg, strings.TrimSpace(m))
			}
		}
		for _, n := range tt.not {
			if strings.Contains(d, n) {
				t.Errorf("%s links %s", tt.pkg, strings.TrimSpace(n))
			}
		}
	}
}
