package main

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/bagnetweb/bagnet/engine"
	"github.com/bagnetweb/bagnet/heatmap"
	"github.com/bagnetweb/bagnet/internal/testmodel"
	"github.com/bagnetweb/bagnet/model/kernel/tensorkernel"
	"github.com/bagnetweb/bagnet/protocol"
)

func keys(m map[string]json.RawMessage) string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	sort.Strings(k)
	return strings.Join(k, ",")
}

func TestClassifyJSON(t *testing.T) {
	dir := t.TempDir()
	floatModel := filepath.Join(dir, "float.safetensors")
	if _, errOut, code := runCmd(t, "convert", "-float", "-preprocess", "squash", "-size", "72", "-o", floatModel, filepath.Join(fixtures, "bagnet17.pth")); code != 0 {
		t.Fatalf("convert: %s", errOut)
	}
	imgs := []string{
		writePNG(t, dir, "a.png", synthetic(120, 80, 1)),
		writePNG(t, dir, "b.png", synthetic(50, 90, 2)),
	}
	for _, tc := range []struct {
		name, weights string
	}{
		{"int8", int8Model(t, testmodel.Options{Seed: 5})},
		{"float", floatModel},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runCmd(t, append([]string{"classify", "-json", "-top", "3", "-weights", tc.weights}, imgs...)...)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d, stderr %q", code, errOut)
			}
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if len(lines) != len(imgs) {
				t.Fatalf("%d lines, want %d:\n%s", len(lines), len(imgs), out)
			}
			ref, err := engine.LoadFile(tc.weights)
			if err != nil {
				t.Fatal(err)
			}
			if ref.Float != nil {
				ref.Float.Kernels = tensorkernel.Kernels{}
			}
			for i, line := range lines {
				// The documented shape, exactly.
				var raw map[string]json.RawMessage
				if err := json.Unmarshal([]byte(line), &raw); err != nil {
					t.Fatalf("line %d: %v", i, err)
				}
				if got := keys(raw); got != "image,logits,map,model,top" {
					t.Errorf("keys %s", got)
				}
				var top []map[string]json.RawMessage
				var mp map[string]json.RawMessage
				if json.Unmarshal(raw["top"], &top) != nil || len(top) != 3 || keys(top[0]) != "id,index,logit,name,prob" {
					t.Errorf("top %s", raw["top"])
				}
				if json.Unmarshal(raw["map"], &mp) != nil || keys(mp) != "h,w" {
					t.Errorf("map %s", raw["map"])
				}
				// The same values as the engine.
				var got protocol.Result
				if err := json.Unmarshal([]byte(line), &got); err != nil {
					t.Fatal(err)
				}
				b, _ := os.ReadFile(imgs[i])
				a, err := ref.Classify(b, 3)
				if err != nil {
					t.Fatal(err)
				}
				want := a.Result
				want.Image = imgs[i]
				if !reflect.DeepEqual(got, want) {
					t.Errorf("image %d: got %+v\nwant %+v", i, got, want)
				}
				if len(got.Logits) != 10 || got.Map.H < 1 || got.Top[0].Logit < got.Top[1].Logit {
					t.Errorf("implausible result %+v", got)
				}
			}

			// Text output: a header per image and the top classes.
			out, _, code = runCmd(t, "classify", "-top", "2", "-weights", tc.weights, imgs[0])
			b, _ := os.ReadFile(imgs[0])
			a, _ := ref.Classify(b, 2)
			if code != 0 || !strings.HasPrefix(out, imgs[0]+": ") || strings.Count(out, "\n") != 3 ||
				!strings.Contains(out, classLabel(a.Top[0])) || !strings.Contains(out, "logit") {
				t.Errorf("text output (exit %d):\n%s", code, out)
			}
		})
	}
}

// A bad image is reported and skipped; the others are still classified.
func TestClassifyContinues(t *testing.T) {
	dir := t.TempDir()
	w := int8Model(t, testmodel.Options{})
	good := writePNG(t, dir, "good.png", synthetic(64, 64, 3))
	missing := filepath.Join(dir, "missing.png")
	out, errOut, code := runCmd(t, "classify", "-json", "-weights", w, good, missing, good)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if strings.Count(out, "\n") != 2 {
		t.Errorf("stdout has %d results, want 2:\n%s", strings.Count(out, "\n"), out)
	}
	checkOneLine(t, errOut)
	if errOut != "bagnet: "+missing+": no such file or directory\n" {
		t.Errorf("stderr %q", errOut)
	}
}

func TestHeatmap(t *testing.T) {
	dir := t.TempDir()
	// 64x64 squash input, BagNet-33: a 4x4 map with cell centres at
	// 8j+16.5. A 192x192 image (3x the input) puts pixel (49+24j, 49+24i)'s
	// centre exactly on cell (i, j)'s centre.
	w := int8Model(t, testmodel.Options{Seed: 9})
	srcImg := synthetic(192, 192, 4)
	src := writePNG(t, dir, "src.png", srcImg)
	out := filepath.Join(dir, "out.png")
	stdout, errOut, code := runCmd(t, "heatmap", "-weights", w, "-o", out, src)
	if code != 0 || errOut != "" || !strings.HasPrefix(stdout, "wrote "+out) {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, errOut)
	}
	got := readPNG(t, out)
	if got.Bounds() != image.Rect(0, 0, 192, 192+heatmap.LegendHeight) {
		t.Fatalf("PNG is %v, want 192x%d", got.Bounds(), 192+heatmap.LegendHeight)
	}

	// Reference: the engine's top-1 evidence map.
	eng, err := engine.LoadFile(w)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(src)
	a, err := eng.Classify(b, 1)
	if err != nil {
		t.Fatal(err)
	}
	if a.Map.H != 4 || a.Map.W != 4 {
		t.Fatalf("map %v, want 4x4", a.Map)
	}
	ev, _ := a.Evidence(a.Top[0].Index)
	var absMax float64
	for _, v := range ev {
		absMax = math.Max(absMax, math.Abs(float64(v)))
	}
	const alpha = 0.6
	for i := 0; i < 4; i++ {
		for j := 0; j < 4; j++ {
			x, y := 49+24*j, 49+24*i
			c := heatmap.Color(ev[i*4+j], float32(absMax))
			o := srcImg.RGBAAt(x, y)
			want := [3]float64{
				float64(o.R)*(1-alpha) + float64(c.R)*alpha,
				float64(o.G)*(1-alpha) + float64(c.G)*alpha,
				float64(o.B)*(1-alpha) + float64(c.B)*alpha,
			}
			p := color.RGBAModel.Convert(got.At(x, y)).(color.RGBA)
			for k, v := range [3]uint8{p.R, p.G, p.B} {
				if math.Abs(float64(v)-want[k]) > 1 {
					t.Errorf("cell (%d,%d) pixel (%d,%d): %v, want %v (evidence %v)", i, j, x, y, p, want, ev[i*4+j])
					break
				}
			}
		}
	}
	// The last patch ends at 8*3+33 = 57 input pixels = 171 image pixels:
	// beyond that the image is only dimmed.
	o := srcImg.RGBAAt(180, 100)
	p := color.RGBAModel.Convert(got.At(180, 100)).(color.RGBA)
	if d := math.Abs(float64(p.R) - (float64(o.R)+128)/2); d > 1 {
		t.Errorf("uncovered pixel %v, want %v dimmed towards grey", p, o)
	}
	// Not uniform: many colours.
	seen := map[color.RGBA]bool{}
	for y := 0; y < 192; y += 3 {
		for x := 0; x < 192; x += 3 {
			seen[color.RGBAModel.Convert(got.At(x, y)).(color.RGBA)] = true
		}
	}
	if len(seen) < 100 {
		t.Errorf("only %d distinct colours", len(seen))
	}

	// Another class by WordNet id gives another picture; a large image is
	// capped at -max-side.
	big := writePNG(t, dir, "big.png", synthetic(300, 200, 5))
	out2 := filepath.Join(dir, "out2.png")
	other := testmodel.ImagenetteClasses[(a.Top[0].Index+1)%10].ID
	if _, errOut, code := runCmd(t, "heatmap", "-weights", w, "-class", other, "-max-side", "150", "-alpha", "0.4", "-o", out2, big); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if b := readPNG(t, out2).Bounds(); b != image.Rect(0, 0, 150, 100+heatmap.LegendHeight) {
		t.Errorf("capped PNG is %v, want 150x%d", b, 100+heatmap.LegendHeight)
	}
}

func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// Failures are one line on stderr naming the file, with exit status 1.
func TestFileErrors(t *testing.T) {
	dir := t.TempDir()
	w := int8Model(t, testmodel.Options{})
	wb, _ := os.ReadFile(w)
	img := writePNG(t, dir, "img.png", synthetic(64, 64, 1))
	text := filepath.Join(dir, "notes.jpg")
	mustWrite(t, text, "just some text\n")
	truncated := filepath.Join(dir, "truncated.safetensors")
	if err := os.WriteFile(truncated, wb[:len(wb)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	corrupt := filepath.Join(dir, "corrupt.safetensors")
	cb := append([]byte(nil), wb...)
	copy(cb[8:], `{"bad json`)
	if err := os.WriteFile(corrupt, cb, 0o644); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(fixtures, "bagnet9_state.safetensors") // safetensors without our metadata
	pthFile := filepath.Join(fixtures, "bagnet9.pth")
	truncPth := filepath.Join(dir, "truncated.pth")
	pb, _ := os.ReadFile(pthFile)
	if err := os.WriteFile(truncPth, pb[:len(pb)*2/3], 0o644); err != nil {
		t.Fatal(err)
	}
	emptyDir := t.TempDir()
	out := filepath.Join(dir, "out.safetensors")

	tests := []struct {
		name string
		args []string
		want string // the whole line after "bagnet: "
	}{
		{"missing image", []string{"classify", "-weights", w, filepath.Join(dir, "nope.png")}, filepath.Join(dir, "nope.png") + ": no such file or directory"},
		{"not an image", []string{"classify", "-weights", w, text}, text + ": not a supported image"},
		{"missing weights", []string{"classify", "-weights", filepath.Join(dir, "nope.safetensors"), img}, filepath.Join(dir, "nope.safetensors") + ": no such file or directory"},
		{"weights is a directory", []string{"classify", "-weights", dir, img}, dir + ": is a directory"},
		{"truncated weights", []string{"classify", "-weights", truncated, img}, truncated + ": "},
		{"corrupt weights", []string{"classify", "-weights", corrupt, img}, corrupt + ": "},
		{"foreign safetensors", []string{"classify", "-weights", foreign, img}, foreign + `: not a BagNet model file`},
		{"pth as weights", []string{"heatmap", "-weights", pthFile, "-o", filepath.Join(dir, "h.png"), img}, pthFile + ": a PyTorch checkpoint, not a model file"},
		{"image as weights", []string{"eval", "-weights", img, dir}, img + ": "},
		{"unknown class", []string{"heatmap", "-weights", w, "-class", "zebra", "-o", filepath.Join(dir, "h.png"), img}, w + `: unknown class "zebra"`},
		{"class index out of range", []string{"heatmap", "-weights", w, "-class", "10", "-o", filepath.Join(dir, "h.png"), img}, w + ": class index 10 out of range"},
		{"heatmap of text", []string{"heatmap", "-weights", w, "-o", filepath.Join(dir, "h.png"), text}, text + ": not a supported image"},
		{"unwritable output", []string{"heatmap", "-weights", w, "-o", filepath.Join(dir, "no", "h.png"), img}, filepath.Join(dir, "no", "h.png") + ": no such file or directory"},
		{"eval missing dir", []string{"eval", "-weights", w, filepath.Join(dir, "nodir")}, filepath.Join(dir, "nodir") + ": no such file or directory"},
		{"eval no class folders", []string{"eval", "-weights", w, emptyDir}, emptyDir + ": no class folders"},
		{"convert missing", []string{"convert", "-float", "-o", out, filepath.Join(dir, "nope.pth")}, filepath.Join(dir, "nope.pth") + ": no such file or directory"},
		{"convert not a checkpoint", []string{"convert", "-float", "-o", out, filepath.Join(fixtures, "foreign.pth")}, filepath.Join(fixtures, "foreign.pth") + ": not a PyTorch checkpoint"},
		{"convert truncated", []string{"convert", "-float", "-o", out, truncPth}, truncPth + ": "},
		{"convert no state dict", []string{"convert", "-float", "-o", out, filepath.Join(fixtures, "list.pth")}, filepath.Join(fixtures, "list.pth") + ": "},
		{"convert not a BagNet", []string{"convert", "-float", "-o", out, filepath.Join(fixtures, "params.pth")}, filepath.Join(fixtures, "params.pth") + ": state dict has no conv1.weight: not a BagNet checkpoint"},
		{"convert arch mismatch", []string{"convert", "-float", "-arch", "bagnet17", "-o", out, pthFile}, pthFile + ": checkpoint is a bagnet9, not a bagnet17 (-arch)"},
		{"convert missing classes", []string{"convert", "-float", "-classes", filepath.Join(dir, "c.tsv"), "-o", out, pthFile}, filepath.Join(dir, "c.tsv") + ": no such file or directory"},
		{"convert calib without images", []string{"convert", "-calib", emptyDir, "-o", out, pthFile}, emptyDir + ": no images found"},
		{"convert calib not an image", []string{"convert", "-calib", filepath.Dir(text), "-calib-n", "5", "-o", out, pthFile}, text + ": not a supported image"},
		{"convert output dir missing", []string{"convert", "-float", "-o", filepath.Join(dir, "no", "m.safetensors"), pthFile}, filepath.Join(dir, "no", "m.safetensors") + ": no such file or directory"},
	}
	for _, tt := range tests {
		stdout, errOut, code := runCmd(t, tt.args...)
		if code != 1 {
			t.Errorf("%s: exit %d, want 1 (stderr %q)", tt.name, code, errOut)
		}
		checkOneLine(t, errOut)
		if !strings.HasPrefix(errOut, "bagnet: "+tt.want) {
			t.Errorf("%s: stderr %q, want it to start with %q", tt.name, errOut, "bagnet: "+tt.want)
		}
		if stdout != "" {
			t.Errorf("%s: stdout %q", tt.name, stdout)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("failed conversions left %s (%v)", out, err)
	}
}
