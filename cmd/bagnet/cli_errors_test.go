package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bagnetweb/bagnet/internal/testmodel"
	"github.com/bagnetweb/bagnet/weights"
)

// An unknown -class names the classes the model does know: all of them for
// a small model, the matching names for a large one (issue 16).
func TestUnknownClassListsClasses(t *testing.T) {
	dir := t.TempDir()
	img := writePNG(t, dir, "a.png", synthetic(64, 64, 1))
	w := int8Model(t, testmodel.Options{})
	for _, args := range [][]string{
		{"heatmap", "-class", "cat", "-o", filepath.Join(dir, "h.png"), img},
		{"heatmap", "-weights", w, "-class", "cat", "-o", filepath.Join(dir, "h.png"), img},
		{"patches", "-weights", w, "-class", "cat", "-json", dir},
	} {
		_, errOut, code := runCmd(t, args...)
		if code != 1 {
			t.Errorf("%v: exit %d, want 1", args, code)
		}
		checkOneLine(t, errOut)
		want := `unknown class "cat": this model knows only these 10 classes: tench, English springer, cassette player, chain saw, church, French horn, garbage truck, gas pump, golf ball, parachute`
		if !strings.Contains(errOut, want) {
			t.Errorf("%v: stderr %q lacks %q", args, errOut, want)
		}
	}
	// An index out of range keeps its own message.
	_, errOut, _ := runCmd(t, "heatmap", "-class", "10", "-o", filepath.Join(dir, "h.png"), img)
	if !strings.Contains(errOut, "class index 10 out of range [0, 10)") {
		t.Errorf("-class 10: stderr %q", errOut)
	}

	// 1000 classes: the names that contain the word.
	classes := make([]weights.Class, 1000)
	for i := range classes {
		classes[i] = weights.Class{ID: fmt.Sprintf("n%08d", i), Name: fmt.Sprintf("thing %d", i)}
	}
	classes[281] = weights.Class{ID: "n02123045", Name: "tabby cat"}
	classes[285] = weights.Class{ID: "n02124075", Name: "Egyptian cat"}
	big := int8Model(t, testmodel.Options{ClassList: classes})
	_, errOut, code := runCmd(t, "heatmap", "-weights", big, "-class", "Cat", "-o", filepath.Join(dir, "h.png"), img)
	checkOneLine(t, errOut)
	if want := `unknown class "Cat": of the model's 1000 classes, these names contain it: tabby cat, Egyptian cat`; code != 1 || !strings.Contains(errOut, want) {
		t.Errorf("1000 classes: exit %d, stderr %q lacks %q", code, errOut, want)
	}
	_, errOut, _ = runCmd(t, "heatmap", "-weights", big, "-class", "zebra", "-o", filepath.Join(dir, "h.png"), img)
	if !strings.Contains(errOut, `unknown class "zebra": none of the model's 1000 class names contains it`) {
		t.Errorf("no match: stderr %q", errOut)
	}
}

// -o naming a directory is "is a directory", before any work, for heatmap
// and patches (issue 16: it said "file exists").
func TestOutputIsDirectory(t *testing.T) {
	dir := t.TempDir()
	img := writePNG(t, dir, "a.png", synthetic(64, 64, 1))
	out := mkdir(t, dir, "out")
	for _, args := range [][]string{
		{"heatmap", "-o", out, img},
		{"patches", "-class", "tench", "-o", out, dir},
	} {
		_, errOut, code := runCmd(t, args...)
		checkOneLine(t, errOut)
		if want := "bagnet: " + out + ": is a directory (want a file name)\n"; code != 1 || errOut != want {
			t.Errorf("%v: exit %d, stderr %q, want %q", args, code, errOut, want)
		}
	}
	if err := writeFile(out, []byte("x")); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("writeFile on a directory: %v", err)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("the directory got %d entries", len(ents))
	}
}

// eval of a folder none of whose subfolders the model knows: one line that
// names the model without stray parentheses (issue 16), for the embedded
// model and a model file.
func TestEvalNoKnownFolders(t *testing.T) {
	dir := t.TempDir()
	writePNG(t, mkdir(t, dir, "cats"), "a.png", synthetic(50, 50, 1))
	writePNG(t, mkdir(t, dir, "dogs"), "a.png", synthetic(50, 50, 2))
	w := int8Model(t, testmodel.Options{})
	for _, tt := range []struct {
		args  []string
		model string
	}{
		{[]string{"eval", dir}, "the embedded model's 10 classes"},
		{[]string{"eval", "-weights", w, dir}, "model.safetensors's 10 classes"},
	} {
		_, errOut, code := runCmd(t, tt.args...)
		checkOneLine(t, errOut)
		want := "bagnet: " + dir + ": none of its 2 folders (cats, dogs) is named by a WordNet id of " + tt.model + "\n"
		if code != 1 || errOut != want {
			t.Errorf("%v: exit %d, stderr %q, want %q", tt.args, code, errOut, want)
		}
		if strings.Count(errOut, "(") != strings.Count(errOut, ")") {
			t.Errorf("unbalanced parentheses: %q", errOut)
		}
	}
}
