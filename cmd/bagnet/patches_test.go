package main

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/bagnetweb/bagnet/engine"
	"github.com/bagnetweb/bagnet/weights/shipped"
)

// TestPatches checks `bagnet patches -json` against a brute-force
// reference that keeps every evidence map: the lists, their order, the
// cells, the evidence and the boxes mapped back to the source pixels.
func TestPatches(t *testing.T) {
	dir := evalTree(t, 3)
	figPath := filepath.Join(t.TempDir(), "fig.png")
	out, errOut, code := runCmd(t, "patches", "-class", "tench", "-n", "5", "-json", "-o", figPath, "-workers", "2", dir)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var got patchesReport
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("decoding %q: %v", out, err)
	}
	if got.Class.ID != "n01440764" || got.Class.Name != "tench" || got.Images != 30 || !got.Labelled || got.Errors != 0 {
		t.Fatalf("header: %+v", got)
	}

	// The reference: every cell of every image.
	eng, err := engine.Load(shipped.Model())
	if err != nil {
		t.Fatal(err)
	}
	type cell struct {
		img, label string
		i, j       int
		ev         float32
		box        [4]float64
	}
	var all []cell
	imgs, err := findImages(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range imgs {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		a, err := eng.Classify(b, 1)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := a.Evidence(0)
		if err != nil {
			t.Fatal(err)
		}
		// Imagenette images are 224x224, the model input 128x128, squashed.
		s := 224.0 / float64(eng.InputSize)
		for k, v := range ev {
			i, j := k/a.Map.W, k%a.Map.W
			bx := eng.Config.CellBox(i, j)
			all = append(all, cell{p, filepath.Base(filepath.Dir(p)), i, j, v,
				[4]float64{float64(bx.X0) * s, float64(bx.Y0) * s, float64(bx.X1) * s, float64(bx.Y1) * s}})
		}
	}
	// want: the best cell of each image (ties: lower cell index), then the n best.
	want := func(keep func(c cell) bool, sign float32) []cell {
		best := map[string]cell{}
		for _, c := range all {
			if !keep(c) {
				continue
			}
			if b, ok := best[c.img]; !ok || sign*c.ev > sign*b.ev {
				best[c.img] = c
			}
		}
		var l []cell
		for _, c := range best {
			l = append(l, c)
		}
		sort.Slice(l, func(a, b int) bool {
			if l[a].ev != l[b].ev {
				return sign*l[a].ev > sign*l[b].ev
			}
			return l[a].img < l[b].img
		})
		return l[:min(5, len(l))]
	}
	tench := func(c cell) bool { return c.label == "n01440764" }
	other := func(c cell) bool { return !tench(c) }
	for _, tt := range []struct {
		name string
		got  []*patchHit
		want []cell
	}{
		{"for", got.For, want(tench, 1)},
		{"distractors", got.Distractors, want(other, 1)},
		{"against", got.Against, want(tench, -1)},
	} {
		if len(tt.got) != len(tt.want) {
			t.Errorf("%s: %d patches, want %d", tt.name, len(tt.got), len(tt.want))
			continue
		}
		for k, w := range tt.want {
			g := tt.got[k]
			if g.Image != w.img || g.Label != w.label || g.Cell != [2]int{w.i, w.j} || g.Evidence != w.ev || g.Box != w.box {
				t.Errorf("%s[%d] = %+v, want %+v", tt.name, k, *g, w)
			}
		}
	}
	if got.For[0].Evidence <= 0 || got.Against[0].Evidence >= 0 {
		t.Errorf("the strongest tench patch has evidence %v and the most negative %v", got.For[0].Evidence, got.Against[0].Evidence)
	}

	f, err := os.Open(figPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fig, err := png.Decode(f)
	if err != nil {
		t.Fatalf("figure: %v", err)
	}
	if b := fig.Bounds(); b.Dx() < 5*96 || b.Dy() < 3*96 {
		t.Errorf("figure is %v, too small for three rows of five 96-pixel patches", b)
	}
}

// Plain images (no class folders): for and against come from all images,
// there are no distractors, and without -json the PNG goes to patches.png.
func TestPatchesPlainFolder(t *testing.T) {
	dir := t.TempDir()
	for k := 0; k < 3; k++ {
		writePNG(t, dir, "img"+string(rune('a'+k))+".png", synthetic(150, 120, k))
	}
	os.WriteFile(filepath.Join(dir, "broken.png"), []byte("\x89PNG\r\n\x1a\nnot really"), 0o644)
	wd := t.TempDir()
	t.Chdir(wd)
	out, errOut, code := runCmd(t, "patches", "-class", "1", "-n", "2", dir)
	if code != 1 {
		t.Errorf("exit %d with one broken image, want 1", code)
	}
	if !strings.Contains(errOut, "bagnet: "+filepath.Join(dir, "broken.png")+": ") {
		t.Errorf("stderr does not name the broken image: %q", errOut)
	}
	if !strings.Contains(out, "wrote patches.png") || strings.Contains(out, "distractors") {
		t.Errorf("stdout:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(wd, "patches.png")); err != nil {
		t.Error(err)
	}
}

// TestPatchesTaughtFolder: class folders named by a taught model's class
// ids (not WordNet ids) label their images, as eval and the page take
// them; a folder named by no class id leaves the images unlabelled.
func TestPatchesTaughtFolder(t *testing.T) {
	dir := teachTree(t)
	os.Remove(filepath.Join(dir, "beta", "broken.jpg"))
	taught := filepath.Join(t.TempDir(), "taught.safetensors")
	if _, stderr, code := runCmd(t, "teach", "-folds", "0", "-o", taught, dir); code != 0 {
		t.Fatalf("teach: exit %d: %s", code, stderr)
	}
	var rep struct {
		Labelled bool `json:"labelled"`
		Images   int  `json:"images"`
		For      []struct {
			Label string `json:"label"`
		} `json:"for"`
		Distractors []struct {
			Label string `json:"label"`
		} `json:"distractors"`
	}
	out, stderr, code := runCmd(t, "patches", "-json", "-class", "alpha", "-weights", taught, dir)
	if code != 0 {
		t.Fatalf("patches: exit %d: %s", code, stderr)
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.Labelled || rep.Images != 12 || len(rep.For) == 0 || len(rep.Distractors) == 0 {
		t.Fatalf("labelled %v, %d images, %d for, %d distractors; want a labelled run over 12 images with both lists", rep.Labelled, rep.Images, len(rep.For), len(rep.Distractors))
	}
	for _, h := range rep.For {
		if h.Label != "alpha" {
			t.Errorf("a 'for' patch of alpha comes from an image labelled %q", h.Label)
		}
	}
	for _, h := range rep.Distractors {
		if h.Label == "alpha" {
			t.Errorf("a distractor of alpha comes from an alpha image")
		}
	}
	// With the shipped model no folder is named by a class id.
	out, _, _ = runCmd(t, "patches", "-json", "-class", "tench", dir)
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Labelled {
		t.Error("folders named by no class id were taken as labels")
	}
}

func TestPatchesErrors(t *testing.T) {
	empty := t.TempDir()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-class", "okapi", empty}, `unknown class "okapi"`},
		{[]string{"-class", "tench", filepath.Join(empty, "missing")}, "no such file or directory"},
		{[]string{"-class", "tench", empty}, "no images found"},
		{[]string{"-class", "tench", "-weights", filepath.Join(empty, "none.safetensors"), empty}, "none.safetensors: no such file"},
	} {
		out, errOut, code := runCmd(t, append([]string{"patches"}, tt.args...)...)
		if code != 1 || out != "" {
			t.Errorf("%v: exit %d, stdout %q", tt.args, code, out)
		}
		checkOneLine(t, errOut)
		if !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: stderr %q does not mention %q", tt.args, errOut, tt.want)
		}
	}
}
