package main

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
)

const pagesWorkflow = "../../.github/workflows/pages.yml"

func lint(t *testing.T, path string) []*actionlint.Error {
	t.Helper()
	var out bytes.Buffer
	l, err := actionlint.NewLinter(&out, &actionlint.LinterOptions{Oneline: true})
	if err != nil {
		t.Fatal(err)
	}
	errs, err := l.LintFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return errs
}

// The Pages workflow lints clean and builds the site without ../shared.
func TestPagesWorkflow(t *testing.T) {
	for _, e := range lint(t, pagesWorkflow) {
		t.Errorf("actionlint: %s", e.Error())
	}
	// The linter finds mistakes: a misspelt key and an unknown expression.
	bad := filepath.Join(t.TempDir(), "bad.yml")
	os.WriteFile(bad, []byte("on: push\njobs:\n  b:\n    runs-onn: ubuntu-latest\n    steps:\n      - run: echo ${{ steps.nope.outputs.x }}\n"), 0o644)
	if errs := lint(t, bad); len(errs) < 2 {
		t.Errorf("a broken workflow gives %d lint errors, want at least 2", len(errs))
	}
	b, err := os.ReadFile(pagesWorkflow)
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, line := range strings.Split(string(b), "\n") {
		if s := strings.TrimSpace(line); !strings.HasPrefix(s, "#") {
			steps = append(steps, s)
		}
	}
	wf := strings.Join(steps, "\n")
	if strings.Contains(wf, "shared") {
		t.Error("the workflow refers to ../shared, which GitHub does not have")
	}
	for _, want := range []string{"go run ./cmd/samples", "make site SAMPLES=build/samples", "path: dist"} {
		if !strings.Contains(wf, want) {
			t.Errorf("the workflow lacks %q", want)
		}
	}
}

// favicon.ico is an ICO file whose one PNG image is web/icon.svg drawn at
// 48x48: transparent corners, the background, the nine patch colours.
func TestFavicon(t *testing.T) {
	b, err := favicon()
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	if le.Uint16(b[0:]) != 0 || le.Uint16(b[2:]) != 1 || le.Uint16(b[4:]) != 1 || b[6] != 48 || b[7] != 48 {
		t.Fatalf("ICO header % x", b[:8])
	}
	size, off := le.Uint32(b[14:]), le.Uint32(b[18:])
	if int(off)+int(size) != len(b) {
		t.Fatalf("image at %d+%d in a %d-byte file", off, size, len(b))
	}
	img, err := png.Decode(bytes.NewReader(b[off:]))
	if err != nil {
		t.Fatal(err)
	}
	at := func(x, y int) color.NRGBA { return color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA) }
	if img.Bounds() != image.Rect(0, 0, 48, 48) || at(0, 0).A != 0 || at(24, 2) != color.NRGBA(iconBackground) {
		t.Errorf("bounds %v, corner %v, top edge %v", img.Bounds(), at(0, 0), at(24, 2))
	}
	for k, c := range iconColours {
		x, y := 12+12*(k%3), 12+12*(k/3) // patch centres
		if at(x, y) != color.NRGBA(c) {
			t.Errorf("patch %d at (%d,%d) is %v, want %v", k, x, y, at(x, y), c)
		}
		if at(x-6, y) != color.NRGBA(iconBackground) { // the stroke between patches
			t.Errorf("stroke left of patch %d is %v", k, at(x-6, y))
		}
	}
}
