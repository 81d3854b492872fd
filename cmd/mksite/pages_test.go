package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"

	"github.com/bagnetweb/bagnet/internal/testmodel"
	"github.com/bagnetweb/bagnet/protocol"
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
	if strings.Contains(wf, "../shared") {
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

// Extra models go to models/, are listed in the site info after the
// default, and are not precached (the service worker stores them when
// picked).
func TestExtraModels(t *testing.T) {
	model, samples, out := setup(t)
	b, err := testmodel.Int8(testmodel.Options{Arch: "bagnet9", InputSize: 48, Width: 0.125, Classes: 3, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	extra := filepath.Join(t.TempDir(), "small-bagnet9.safetensors")
	os.WriteFile(extra, b, 0o644)
	if err := Build(Config{Model: model, Extra: []string{extra}, Samples: samples, Out: out, Wasm: fakeWasm("a")}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(read(t, out, "models/small-bagnet9.safetensors"), b) {
		t.Error("the extra model is not copied to models/")
	}
	html := string(read(t, out, "index.html"))
	m := regexp.MustCompile(`(?s)id="site-info">(.*?)</script>`).FindStringSubmatch(html)
	var si protocol.SiteInfo
	if m == nil || json.Unmarshal([]byte(m[1]), &si) != nil || len(si.Models) != 2 {
		t.Fatalf("site info %v", m)
	}
	if si.Models[0].File != "model.safetensors" || si.Models[1].File != "models/small-bagnet9.safetensors" ||
		si.Models[1].Classes != 3 || si.Models[1].Arch != "bagnet9" || si.Models[1].Bytes != len(b) || si.Models[1].InputSize != 48 {
		t.Errorf("models %+v", si.Models)
	}
	// The extra model is not precached, but checked when downloaded.
	sw := string(read(t, out, "sw.js"))
	assets := regexp.MustCompile(`const ASSETS = (\{.*\});`).FindStringSubmatch(sw)
	lazy := regexp.MustCompile(`const LAZY = (\{.*\});`).FindStringSubmatch(sw)
	if assets == nil || lazy == nil || strings.Contains(assets[1], `"models/`) || !strings.Contains(assets[1], `"model.safetensors"`) {
		t.Errorf("sw.js precaches the extra model, or not the default: %.300s", sw)
	}
	if sum := sha256.Sum256(b); lazy == nil || lazy[1] != fmt.Sprintf(`{"models/small-bagnet9.safetensors":"%x"}`, sum) {
		t.Errorf("sw.js LAZY: %v", lazy)
	}
	// A model that does not load is refused.
	junk := filepath.Join(t.TempDir(), "junk.safetensors")
	os.WriteFile(junk, []byte("junk"), 0o644)
	if err := Build(Config{Model: model, Extra: []string{junk}, Samples: samples, Out: out, Wasm: fakeWasm("a")}); err == nil || !strings.Contains(err.Error(), "junk.safetensors") {
		t.Errorf("a junk extra model: %v", err)
	}
}
