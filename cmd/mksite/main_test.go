package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"github.com/bagnetweb/bagnet/protocol"
	"github.com/bagnetweb/bagnet/web"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/bagnetweb/bagnet/internal/testmodel"
)

// fakeWasm stands in for the Go compiler: the tests check the site's
// assembly, not the binaries.
func fakeWasm(app string) func() (map[string][]byte, error) {
	return func() (map[string][]byte, error) {
		return map[string][]byte{
			"app.wasm":       []byte("\x00asm app " + strings.Repeat(app, 200)),
			"worker.wasm":    []byte("\x00asm worker " + strings.Repeat("w", 300)),
			"wasm_exec.js":   []byte("// wasm_exec.js\n" + strings.Repeat("var x = 1;\n", 50)),
			"vugu-render.js": []byte(VuguHelperPrefix + "})()\n"),
		}, nil
	}
}

func setup(t *testing.T) (model, samples, out string) {
	t.Helper()
	dir := t.TempDir()
	b, err := testmodel.Int8(testmodel.Options{InputSize: 64, Width: 0.125})
	if err != nil {
		t.Fatal(err)
	}
	model = filepath.Join(dir, "m.safetensors")
	os.WriteFile(model, b, 0o644)
	samples = filepath.Join(dir, "samples")
	os.Mkdir(samples, 0o755)
	os.WriteFile(filepath.Join(samples, "n01440764_tench.jpg"), encode(t, "jpeg", 300, 200), 0o644)
	os.WriteFile(filepath.Join(samples, "n03417042_garbage_truck.JPG"), encode(t, "jpeg", 90, 160), 0o644)
	os.WriteFile(filepath.Join(samples, "my_cat.png"), encode(t, "png", 50, 50), 0o644)
	os.WriteFile(filepath.Join(samples, "notes.txt"), []byte("not an image"), 0o644)
	return model, samples, filepath.Join(dir, "site", "dist")
}

// encode makes a w x h image whose centre third is red and the rest blue.
func encode(t *testing.T, format string, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{0, 0, 255, 255}
			if x >= w/3 && x < 2*w/3 && y >= h/3 && y < 2*h/3 {
				c = color.RGBA{255, 0, 0, 255}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	var err error
	if format == "png" {
		err = png.Encode(&buf, img)
	} else {
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95})
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestThumbnail(t *testing.T) {
	for _, sz := range [][2]int{{300, 200}, {90, 160}, {50, 50}} {
		th, err := thumbnail(encode(t, "png", sz[0], sz[1]))
		if err != nil {
			t.Fatal(err)
		}
		img, err := jpeg.Decode(bytes.NewReader(th))
		if err != nil {
			t.Fatalf("thumbnail is not a JPEG: %v", err)
		}
		if b := img.Bounds(); b.Dx() != ThumbSize || b.Dy() != ThumbSize {
			t.Fatalf("thumbnail of %v is %v", sz, b)
		}
		// The centre crop keeps the red centre in the middle, blue corners
		// on the short side's axis.
		r, _, b, _ := img.At(ThumbSize/2, ThumbSize/2).RGBA()
		if r>>8 < 200 || b>>8 > 60 {
			t.Errorf("thumbnail of %v: centre is not red (r=%d b=%d)", sz, r>>8, b>>8)
		}
		r, _, b, _ = img.At(2, 2).RGBA()
		if b>>8 < 200 || r>>8 > 60 {
			t.Errorf("thumbnail of %v: corner is not blue (r=%d b=%d)", sz, r>>8, b>>8)
		}
	}
	if _, err := thumbnail([]byte("not an image")); err == nil {
		t.Error("thumbnail of junk: no error")
	}
}

func read(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBuild(t *testing.T) {
	model, samples, out := setup(t)
	if err := Build(Config{Model: model, Samples: samples, Out: out, Wasm: fakeWasm("a")}); err != nil {
		t.Fatal(err)
	}
	// The model and samples are copied byte for byte.
	if m, _ := os.ReadFile(model); !bytes.Equal(read(t, out, "model.safetensors"), m) {
		t.Error("model.safetensors differs from the model file")
	}
	if got, _ := os.ReadFile(filepath.Join(samples, "n01440764_tench.jpg")); !bytes.Equal(read(t, out, "samples/n01440764_tench.jpg"), got) {
		t.Error("sample not copied byte for byte")
	}
	var idx []Sample
	if err := json.Unmarshal(read(t, out, "samples/index.json"), &idx); err != nil {
		t.Fatal(err)
	}
	want := []Sample{
		{File: "samples/my_cat.png", Thumb: "samples/thumbs/my_cat.jpg", Name: "my cat"},
		{File: "samples/n01440764_tench.jpg", Thumb: "samples/thumbs/n01440764_tench.jpg", Name: "tench", WNID: "n01440764"},
		{File: "samples/n03417042_garbage_truck.JPG", Thumb: "samples/thumbs/n03417042_garbage_truck.jpg", Name: "garbage truck", WNID: "n03417042"},
	}
	if !slices.Equal(idx, want) {
		t.Errorf("samples/index.json = %+v, want %+v", idx, want)
	}
	if _, err := os.Stat(filepath.Join(out, "samples", "notes.txt")); err == nil {
		t.Error("a non-image was copied into samples/")
	}

	// index.html: the CSP meta tag, no inline script, relative URLs only,
	// and the site info the boot script reads.
	html := string(read(t, out, "index.html"))
	if !strings.Contains(html, `<meta http-equiv="Content-Security-Policy" content="`+web.CSP+`">`) {
		t.Error("index.html lacks the CSP meta tag")
	}
	for _, m := range regexp.MustCompile(`<script([^>]*)>([^<]*)</script>`).FindAllStringSubmatch(html, -1) {
		attrs, body := m[1], strings.TrimSpace(m[2])
		if strings.Contains(attrs, `type="application/json"`) {
			continue // data, not code
		}
		if !strings.Contains(attrs, "src=") || body != "" {
			t.Errorf("inline script in index.html: %s", m[0])
		}
	}
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(html, -1) {
		u := m[1]
		if strings.HasPrefix(u, "/") || strings.Contains(u, ":") {
			t.Errorf("index.html has a non-relative URL %q", u)
		} else if _, err := os.Stat(filepath.Join(out, u)); err != nil {
			t.Errorf("index.html refers to missing %q", u)
		}
	}
	info := regexp.MustCompile(`(?s)<script type="application/json" id="site-info">(.*?)</script>`).FindStringSubmatch(html)
	if info == nil {
		t.Fatal("no site-info in index.html")
	}
	var si protocol.SiteInfo
	if err := json.Unmarshal([]byte(info[1]), &si); err != nil {
		t.Fatal(err)
	}
	for f, n := range si.Sizes {
		if len(read(t, out, f)) != n {
			t.Errorf("site info says %s has %d bytes, it has %d", f, n, len(read(t, out, f)))
		}
	}
	if si.Model != "model.safetensors" || si.Samples != "samples/index.json" || len(si.Sizes) != 3 {
		t.Errorf("site info %+v", si)
	}

	// sw.js precaches exactly the uncompressed files, sw.js excluded, each
	// with the SHA-256 of its bytes on disk; index.html names the version.
	sw := string(read(t, out, "sw.js"))
	am := regexp.MustCompile(`const ASSETS = (\{.*\});`).FindStringSubmatch(sw)
	vm := regexp.MustCompile(`const VERSION = '([0-9a-f]{16})';`).FindStringSubmatch(sw)
	if am == nil || vm == nil {
		t.Fatalf("sw.js lacks VERSION or ASSETS:\n%.400s", sw)
	}
	var hashes map[string]string
	if err := json.Unmarshal([]byte(am[1]), &hashes); err != nil {
		t.Fatalf("ASSETS: %v", err)
	}
	assets := slices.Sorted(maps.Keys(hashes))
	for f, h := range hashes {
		if sum := sha256.Sum256(read(t, out, f)); hex.EncodeToString(sum[:]) != h {
			t.Errorf("sw.js says %s has SHA-256 %s; on disk %x", f, h, sum)
		}
	}
	if !strings.Contains(string(read(t, out, "index.html")), `<meta name="bagnet-version" content="`+vm[1]+`">`) {
		t.Errorf("index.html does not name version %s", vm[1])
	}
	var onDisk []string
	filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(out, p)
			rel = filepath.ToSlash(rel)
			if rel != "sw.js" && !strings.HasSuffix(rel, ".gz") && !strings.HasSuffix(rel, ".br") {
				onDisk = append(onDisk, rel)
			}
		}
		return nil
	})
	slices.Sort(onDisk)
	if !slices.Equal(assets, onDisk) {
		t.Errorf("precached %v\nfiles     %v", assets, onDisk)
	}
	for _, f := range []string{"index.html", "app.js", "worker.js", "load-wasm.js", "wasm_exec.js", "vugu-render.js", "style.css",
		"app.wasm", "worker.wasm", "model.safetensors", "manifest.webmanifest", "icon.svg"} {
		if !slices.Contains(assets, f) {
			t.Errorf("%s is not precached", f)
		}
	}

	// Compressed copies decompress to the originals.
	for _, f := range []string{"app.wasm", "index.html", "sw.js", "app.js", "wasm_exec.js"} {
		orig := read(t, out, f)
		zr, err := gzip.NewReader(bytes.NewReader(read(t, out, f+".gz")))
		if err != nil {
			t.Fatalf("%s.gz: %v", f, err)
		}
		if b, err := io.ReadAll(zr); err != nil || !bytes.Equal(b, orig) {
			t.Errorf("%s.gz does not decompress to %s (%v)", f, f, err)
		}
		if b, err := io.ReadAll(brotli.NewReader(bytes.NewReader(read(t, out, f+".br")))); err != nil || !bytes.Equal(b, orig) {
			t.Errorf("%s.br does not decompress to %s (%v)", f, f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "samples", "n01440764_tench.jpg.gz")); err == nil {
		t.Error("a JPEG got a compressed copy")
	}

	// A changed asset changes the version; a rebuild replaces the old site.
	if err := Build(Config{Model: model, Samples: samples, Out: out, Wasm: fakeWasm("b")}); err != nil {
		t.Fatal(err)
	}
	vm2 := regexp.MustCompile(`const VERSION = '([0-9a-f]{16})';`).FindStringSubmatch(string(read(t, out, "sw.js")))
	if vm2 == nil || vm2[1] == vm[1] {
		t.Errorf("version did not change with app.wasm: %v -> %v", vm[1], vm2)
	}
}

func TestBuildErrors(t *testing.T) {
	model, samples, out := setup(t)
	junk := filepath.Join(t.TempDir(), "junk.safetensors")
	os.WriteFile(junk, []byte("not a model"), 0o644)
	badSamples := t.TempDir()
	os.WriteFile(filepath.Join(badSamples, "broken.jpg"), []byte("not a jpeg"), 0o644)
	keep := t.TempDir()
	os.WriteFile(filepath.Join(keep, "precious.txt"), []byte("x"), 0o644)
	tests := []struct {
		name string
		c    Config
		want string
	}{
		{"missing model", Config{Model: model + ".nope", Samples: samples, Out: out, Wasm: fakeWasm("a")}, "randommodel"},
		{"corrupt model", Config{Model: junk, Samples: samples, Out: out, Wasm: fakeWasm("a")}, "junk.safetensors"},
		{"corrupt sample", Config{Model: model, Samples: badSamples, Out: out, Wasm: fakeWasm("a")}, "broken.jpg"},
		{"foreign output dir", Config{Model: model, Samples: samples, Out: keep, Wasm: fakeWasm("a")}, "refusing"},
		{"failing build", Config{Model: model, Samples: samples, Out: out, Wasm: func() (map[string][]byte, error) {
			return map[string][]byte{"app.wasm": []byte("x")}, nil
		}}, "worker.wasm"},
	}
	for _, tt := range tests {
		err := Build(tt.c)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", tt.name, err, tt.want)
		}
	}
	if _, err := os.Stat(filepath.Join(keep, "precious.txt")); err != nil {
		t.Error("a foreign directory was wiped")
	}
}

func TestSampleName(t *testing.T) {
	tests := []struct{ in, wnid, name string }{
		{"n01440764_tench", "n01440764", "tench"},
		{"n02102040_English_springer", "n02102040", "English springer"},
		{"my_cat", "", "my cat"},
		{"n0144076x_tench", "", "n0144076x tench"},
		{"plain", "", "plain"},
	}
	for _, tt := range tests {
		if w, n := sampleName(tt.in); w != tt.wnid || n != tt.name {
			t.Errorf("sampleName(%q) = %q, %q; want %q, %q", tt.in, w, n, tt.wnid, tt.name)
		}
	}
}

func TestSamplesMissingDir(t *testing.T) {
	files := map[string][]byte{}
	s, err := addSamples(files, filepath.Join(t.TempDir(), "none"))
	if err != nil || len(s) != 0 || string(files["samples/index.json"]) != "[]" {
		t.Errorf("missing samples dir: %v, %v, %q", s, err, files["samples/index.json"])
	}
}

func TestVuguHelper(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "domrender"), 0o755)
	src := "package domrender\n\nconst a = 1\n\nconst jsHelperScript = " + strconv.Quote(VuguHelperPrefix+"let s=\"x\\n\";})()") + "\n"
	os.WriteFile(filepath.Join(dir, "domrender", "renderer-js-script.go"), []byte(src), 0o644)
	got, err := VuguHelper(dir)
	if want := VuguHelperPrefix + "let s=\"x\\n\";})()\n"; err != nil || string(got) != want {
		t.Errorf("VuguHelper = %q, %v; want %q", got, err, want)
	}

	os.WriteFile(filepath.Join(dir, "domrender", "renderer-js-script.go"), []byte("package domrender\nconst jsHelperScript = \"alert(1)\"\n"), 0o644)
	if _, err := VuguHelper(dir); err == nil || !strings.Contains(err.Error(), "no longer starts") {
		t.Errorf("changed script: err = %v", err)
	}
	if _, err := VuguHelper(t.TempDir()); err == nil {
		t.Error("missing vugu: no error")
	}

	// The vugu the app is built with, when its module is at hand.
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/vugu/vugu").Output()
	if d := strings.TrimSpace(string(out)); err == nil && d != "" {
		b, err := VuguHelper(d)
		if err != nil || !bytes.Contains(b, []byte("window.vuguRender=function")) {
			t.Errorf("real vugu helper: %v (%d bytes)", err, len(b))
		}
	}
}
