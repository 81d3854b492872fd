package protocol

import (
	"os/exec"
	"strings"
	"testing"
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
