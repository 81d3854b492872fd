// Command mksite builds the static web app into a directory that any static
// file host can serve, under any sub-path (every URL in it is relative).
//
// Usage:
//
//	go run ./cmd/mksite -model FILE [-samples DIR] [-o dist]
//
// It compiles the UI (./wasm/app) and the inference worker (./wasm/worker)
// with GOOS=js GOARCH=wasm, copies Go's wasm_exec.js, the web sources
// (package web), the model file (as model.safetensors) and the sample images
// (with samples/index.json), writes a service worker whose cache name is a
// hash of every asset and which checks each asset against its SHA-256
// before caching it (web/sw.js), and stores gzip (-9) and brotli copies of the
// compressible files next to them for servers that serve precompressed
// files.
package main

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/bagnetweb/bagnet/preprocess/imagefile"
	"go/ast"
	"go/parser"
	"go/token"
	"image"
	"image/jpeg"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"

	"github.com/andybalholm/brotli"
	xdraw "golang.org/x/image/draw"

	"github.com/bagnetweb/bagnet/engine"
	"github.com/bagnetweb/bagnet/preprocess"
	"github.com/bagnetweb/bagnet/protocol"
	"github.com/bagnetweb/bagnet/wasm/simd"
	"github.com/bagnetweb/bagnet/web"
)

// ModelFile is the name the model gets in the site.
const ModelFile = "model.safetensors"

// SIMDFile is the WebAssembly SIMD kernel module (wasm/simd) that
// web/worker.js loads beside worker.wasm.
const SIMDFile = "simd.wasm"

func main() {
	err := run(os.Args[1:], os.Stderr)
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	default:
		fmt.Fprintln(os.Stderr, "mksite:", err)
		os.Exit(1)
	}
}

func run(args []string, stderr io.Writer) error {
	fl := flag.NewFlagSet("mksite", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var c Config
	fl.StringVar(&c.Model, "model", "", "model file (.safetensors) to ship (required): the default")
	extra := fl.String("extra-models", "", "more model files for the model picker, comma-separated: each is downloaded only when picked")
	fl.StringVar(&c.Samples, "samples", "../shared/data/samples", "directory of sample images for the gallery (skipped when missing)")
	fl.StringVar(&c.Out, "o", "dist", "output directory (replaced)")
	root := fl.String("root", ".", "module root holding ./wasm/app and ./wasm/worker")
	goCmd := fl.String("go", "go", "go command used to build the wasm binaries")
	fl.StringVar(&c.Cache, "cache", "build/mksite-cache", "directory keeping compressed copies by content hash for the next build (\"\": none)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if c.Model == "" || fl.NArg() > 0 {
		fl.Usage()
		return errors.New("need -model FILE and no other arguments")
	}
	for _, m := range strings.Split(*extra, ",") {
		if m = strings.TrimSpace(m); m != "" {
			c.Extra = append(c.Extra, m)
		}
	}
	c.Log = stderr
	c.Wasm = GoBuilder(*goCmd, *root)
	return Build(c)
}

// Config says what Build puts into the site.
type Config struct {
	Model   string   // the default model file
	Extra   []string // more model files, for the picker (models/NAME in the site)
	Samples string   // directory of sample images; "" or missing means none
	Out     string   // output directory, replaced as a whole
	// Wasm builds the two WebAssembly binaries and gathers their runtime
	// scripts, returning their contents by site file name: "app.wasm",
	// "worker.wasm", Go's "wasm_exec.js" and vugu's DOM renderer helper
	// "vugu-render.js".
	Wasm func() (map[string][]byte, error)
	Log  io.Writer // progress messages; nil discards them
	// Cache, if not "", is a directory of compressed copies by content
	// hash: brotli at quality 11 takes most of a build's time, and an
	// unchanged file (the model, the wasm of an unchanged tree) need not
	// be compressed again.
	Cache string
}

// GoBuilder compiles ./wasm/app and ./wasm/worker under root with the given
// go command (GOOS=js GOARCH=wasm, -trimpath, stripped), reads wasm_exec.js
// from that Go's GOROOT and extracts vugu's renderer helper (see
// VuguHelper) from the vugu module the app is built with.
func GoBuilder(goCmd, root string) func() (map[string][]byte, error) {
	return func() (map[string][]byte, error) {
		tmp, err := os.MkdirTemp("", "mksite-wasm-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		out := map[string][]byte{}
		for _, pkg := range []string{"app", "worker"} {
			dst := filepath.Join(tmp, pkg+".wasm")
			cmd := exec.Command(goCmd, "build", "-trimpath", "-ldflags=-s -w", "-o", dst, "./wasm/"+pkg)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
			if b, err := cmd.CombinedOutput(); err != nil {
				return nil, fmt.Errorf("building ./wasm/%s: %v\n%s", pkg, err, b)
			}
			if out[pkg+".wasm"], err = os.ReadFile(dst); err != nil {
				return nil, err
			}
		}
		goOut := func(args ...string) (string, error) {
			cmd := exec.Command(goCmd, args...)
			cmd.Dir = root
			b, err := cmd.Output()
			if err != nil {
				return "", fmt.Errorf("go %s: %v", strings.Join(args, " "), err)
			}
			return strings.TrimSpace(string(b)), nil
		}
		vugu, err := goOut("list", "-m", "-f", "{{.Dir}}", "github.com/vugu/vugu")
		if err != nil {
			return nil, err
		}
		if out["vugu-render.js"], err = VuguHelper(vugu); err != nil {
			return nil, err
		}
		goroot, err := goOut("env", "GOROOT")
		if err != nil {
			return nil, err
		}
		for _, p := range []string{"lib/wasm/wasm_exec.js", "misc/wasm/wasm_exec.js"} {
			if out["wasm_exec.js"], err = os.ReadFile(filepath.Join(goroot, p)); err == nil {
				return out, nil
			}
		}
		return nil, fmt.Errorf("no wasm_exec.js under GOROOT %s", goroot)
	}
}

// VuguHelper returns the JavaScript that vugu's DOM renderer installs with
// window.eval at start-up (the constant jsHelperScript of its domrender
// package, read from the module directory vuguDir). The page's
// Content-Security-Policy forbids eval, so the site ships the script as a
// file (vugu-render.js), and wasm/app lets the renderer's eval of it do
// nothing (window.eval is swapped for a no-op only while domrender.New runs).
func VuguHelper(vuguDir string) ([]byte, error) {
	file := filepath.Join(vuguDir, "domrender", "renderer-js-script.go")
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		return nil, fmt.Errorf("vugu renderer helper: %w", err)
	}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if name.Name != "jsHelperScript" || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return nil, fmt.Errorf("vugu renderer helper: %s: jsHelperScript is not a string literal", file)
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil {
					return nil, fmt.Errorf("vugu renderer helper: %s: %w", file, err)
				}
				if !strings.HasPrefix(s, VuguHelperPrefix) {
					return nil, fmt.Errorf("vugu renderer helper: %s: the script no longer starts with %q (wasm/app relies on it: the script must define window.vuguRender and do nothing when it exists)", file, VuguHelperPrefix)
				}
				return []byte(s + "\n"), nil
			}
		}
	}
	return nil, fmt.Errorf("vugu renderer helper: no const jsHelperScript in %s", file)
}

// VuguHelperPrefix starts vugu's helper script: once window.vuguRender
// exists (vugu-render.js loaded), evaluating it again does nothing, so the
// app may skip the renderer's eval of it.
const VuguHelperPrefix = "(function(){if(window.vuguRender)return;"

// Sample is one entry of samples/index.json.
type Sample struct {
	File  string `json:"file"`            // URL relative to the site root
	Thumb string `json:"thumb,omitempty"` // small square JPEG for the gallery
	Name  string `json:"name"`            // display name, e.g. "English springer"
	WNID  string `json:"wnid,omitempty"`  // WordNet id when the file name starts with one
}

// ThumbSize is the side of the gallery's thumbnails in pixels (twice their
// CSS size, for sharp high-density screens).
const ThumbSize = 144

// thumbnail decodes an image (upright, as browsers show it) and returns a
// ThumbSize x ThumbSize JPEG of its centre square.
func thumbnail(data []byte) ([]byte, error) {
	img, _, err := preprocess.Decode(data)
	if err != nil {
		return nil, err
	}
	b := img.Bounds()
	side := min(b.Dx(), b.Dy())
	src := image.Rect(0, 0, side, side).Add(b.Min).Add(image.Pt((b.Dx()-side)/2, (b.Dy()-side)/2))
	dst := image.NewRGBA(image.Rect(0, 0, ThumbSize, ThumbSize))
	xdraw.CatmullRom.Scale(dst, dst.Bounds(), img, src, xdraw.Src, nil)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 82}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ExtraDir is where the picker's other models live in the site; the service
// worker stores them only once picked, not at install.
const ExtraDir = "models/"

func siteModel(file string, b []byte, e *engine.Engine) protocol.SiteModel {
	return protocol.SiteModel{File: file, Name: e.Label(), Bytes: len(b), Classes: len(e.Classes), Arch: e.Config.Arch, InputSize: e.InputSize, DType: e.DType}
}

// compressible lists the extensions that get .gz and .br copies.
var compressible = []string{".wasm", ".js", ".html", ".css", ".json", ".webmanifest", ".svg", ".safetensors"}

// Build writes the site into c.Out, replacing what was there. The output is
// written into a temporary directory beside it first, so a failed build
// leaves the old site untouched.
func Build(c Config) error {
	logf := func(format string, a ...any) {
		if c.Log != nil {
			fmt.Fprintf(c.Log, format+"\n", a...)
		}
	}
	t0 := time.Now()
	model, err := os.ReadFile(c.Model)
	if err != nil {
		return fmt.Errorf("model: %w (build one with `make train`, or a random stand-in with `go run ./internal/cmd/randommodel -o FILE`)", err)
	}
	eng, err := engine.Load(model)
	if err != nil {
		return fmt.Errorf("model %s: %w", c.Model, err)
	}
	logf("model: %s (%d classes, %dx%d input, %d bytes)", eng.Label(), len(eng.Classes), eng.InputSize, eng.InputSize, len(model))

	files := map[string][]byte{ModelFile: model}
	models := []protocol.SiteModel{siteModel(ModelFile, model, eng)}
	for _, p := range c.Extra {
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("extra model: %w", err)
		}
		e, err := engine.Load(b)
		if err != nil {
			return fmt.Errorf("extra model %s: %w", p, err)
		}
		f := ExtraDir + filepath.Base(p)
		if _, dup := files[f]; dup {
			return fmt.Errorf("extra model %s: two models named %s", p, filepath.Base(p))
		}
		files[f] = b
		models = append(models, siteModel(f, b, e))
		logf("extra model: %s (%d classes, %d bytes) as %s", e.Label(), len(e.Classes), len(b), f)
	}
	if err := fs.WalkDir(web.Files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files[p], err = web.Files.ReadFile(p)
		return err
	}); err != nil {
		return err
	}
	samples, err := addSamples(files, c.Samples)
	if err != nil {
		return err
	}
	if len(samples) == 0 {
		logf("warning: no sample images in %q: the gallery will be empty", c.Samples)
	}

	if c.Wasm == nil {
		return errors.New("no wasm builder configured")
	}
	logf("building app.wasm and worker.wasm ...")
	bins, err := c.Wasm()
	if err != nil {
		return err
	}
	for _, f := range []string{"app.wasm", "worker.wasm", "wasm_exec.js", "vugu-render.js"} {
		if len(bins[f]) == 0 {
			return fmt.Errorf("wasm builder returned no %s", f)
		}
		files[f] = bins[f]
	}
	files[SIMDFile] = simd.Module
	if files["favicon.ico"], err = favicon(); err != nil {
		return err
	}

	info := protocol.SiteInfo{Model: ModelFile, Models: models, Samples: "samples/index.json", Sizes: map[string]int{}}
	for _, f := range []string{"app.wasm", "worker.wasm", ModelFile} {
		info.Sizes[f] = len(files[f])
	}
	infoJSON, err := json.Marshal(info) // escapes <, > and &: safe inside <script>
	if err != nil {
		return err
	}
	// The version hashes every asset, index.html rendered without it; then
	// index.html gets it (the page tells its service worker which version
	// it is), and sw.js the SHA-256 of every asset as written.
	indexSrc := files["index.html"]
	page := func(version string) ([]byte, error) {
		return render("index.html", indexSrc, map[string]any{"CSP": web.CSP, "Site": string(infoJSON), "Version": version})
	}
	if files["index.html"], err = page(""); err != nil {
		return err
	}
	version, assets := Version(files)
	if files["index.html"], err = page(version); err != nil {
		return err
	}
	// The picker's models are stored when picked, not precached: sw.js
	// checks them as they download.
	precache, lazy := map[string]string{}, map[string]string{}
	for _, a := range assets {
		if strings.HasPrefix(a, ExtraDir) {
			lazy[a] = SHA256(files[a])
		} else {
			precache[a] = SHA256(files[a])
		}
	}
	assetsJSON, _ := json.Marshal(precache) // sorted keys
	lazyJSON, _ := json.Marshal(lazy)
	if files["sw.js"], err = render("sw.js", files["sw.js"], map[string]any{
		"Version": version, "Assets": string(assetsJSON), "Lazy": string(lazyJSON),
	}); err != nil {
		return err
	}

	compressed, err := compressAll(files, c.Cache)
	if err != nil {
		return err
	}
	maps := []map[string][]byte{files, compressed}
	if err := writeDir(c.Out, maps...); err != nil {
		return err
	}
	logf("wrote %s: %d files, version %s, in %.1fs", c.Out, len(files)+len(compressed), version, time.Since(t0).Seconds())
	for _, f := range []string{"app.wasm", "worker.wasm", ModelFile} {
		logf("  %-18s %9d raw %9d gzip %9d brotli", f, len(files[f]), len(compressed[f+".gz"]), len(compressed[f+".br"]))
	}
	return nil
}

// render executes a text/template. The values are trusted: JSON produced by
// encoding/json (which escapes '<') and constants.
func render(name string, src []byte, data any) ([]byte, error) {
	t, err := template.New(name).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return nil, fmt.Errorf("template %s: %w", name, err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("template %s: %w", name, err)
	}
	return b.Bytes(), nil
}

// isSample reports whether a file of the samples directory is copied into
// the site: an image preprocess reads, in a compressed web format (not BMP
// or TIFF, mostly uncompressed: the site ships and caches each sample whole).
func isSample(name string) bool {
	ext := strings.ToLower(path.Ext(name))
	return imagefile.Is(name) && ext != ".bmp" && ext != ".tif" && ext != ".tiff"
}

// addSamples copies the images of dir into files under samples/ and writes
// samples/index.json. A missing dir gives an empty gallery.
func addSamples(files map[string][]byte, dir string) ([]Sample, error) {
	samples := []Sample{}
	var ents []os.DirEntry
	if dir != "" {
		var err error
		ents, err = os.ReadDir(dir)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("samples: %w", err)
		}
	}
	for _, e := range ents {
		if e.IsDir() || !isSample(e.Name()) || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("samples: %w", err)
		}
		file := "samples/" + e.Name()
		files[file] = b
		s := Sample{File: file}
		if th, err := thumbnail(b); err == nil {
			s.Thumb = "samples/thumbs/" + strings.TrimSuffix(e.Name(), path.Ext(e.Name())) + ".jpg"
			files[s.Thumb] = th
		} else {
			return nil, fmt.Errorf("samples: %s: %w", e.Name(), err)
		}
		s.WNID, s.Name = sampleName(strings.TrimSuffix(e.Name(), path.Ext(e.Name())))
		samples = append(samples, s)
	}
	b, err := json.MarshalIndent(samples, "", "  ")
	if err != nil {
		return nil, err
	}
	files["samples/index.json"] = b
	return samples, nil
}

// sampleName splits "n01440764_tench" into its WordNet id and a display
// name ("tench"); names without an id are returned with '_' as spaces.
func sampleName(base string) (wnid, name string) {
	if id, rest, ok := strings.Cut(base, "_"); ok && len(id) == 9 && id[0] == 'n' && strings.Trim(id[1:], "0123456789") == "" {
		return id, strings.ReplaceAll(rest, "_", " ")
	}
	return "", strings.ReplaceAll(base, "_", " ")
}

// SHA256 is the hex SHA-256 of b: what sw.js checks each asset against.
func SHA256(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Version hashes every asset but sw.js (name and content) into the service
// worker's cache version, and returns the sorted asset list.
func Version(files map[string][]byte) (string, []string) {
	var assets []string
	for f := range files {
		if f != "sw.js" {
			assets = append(assets, f)
		}
	}
	slices.Sort(assets)
	h := sha256.New()
	for _, f := range assets {
		fmt.Fprintf(h, "%s\x00%d\x00", f, len(files[f]))
		h.Write(files[f])
	}
	return hex.EncodeToString(h.Sum(nil))[:16], assets
}

// compressAll returns gzip -9 (".gz") and brotli quality 11 (".br") copies of
// the compressible files, keeping only copies smaller than the original.
func compressAll(files map[string][]byte, cache string) (map[string][]byte, error) {
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		out  = map[string][]byte{}
		errs []error
		sem  = make(chan struct{}, runtime.GOMAXPROCS(0))
	)
	for name, b := range files {
		if !slices.Contains(compressible, path.Ext(name)) {
			continue
		}
		for _, enc := range []string{".gz", ".br"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				c, err := cachedCompress(cache, enc, b)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, fmt.Errorf("compressing %s: %w", name, err))
				} else if len(c) < len(b) {
					out[name+enc] = c
				}
			}()
		}
	}
	wg.Wait()
	pruneCache(cache, time.Hour)
	return out, errors.Join(errs...)
}

// cachedCompress is compress with the results kept in the directory cache
// (none when ""), named by the hash of the input and the encoding. An entry
// is written to a temporary file and renamed, so a reader never sees part
// of one; an entry that cannot be read or written is recomputed.
func cachedCompress(cache, enc string, b []byte) ([]byte, error) {
	if cache == "" {
		return compress(enc, b)
	}
	sum := sha256.Sum256(b)
	p := filepath.Join(cache, hex.EncodeToString(sum[:])+enc)
	if c, err := os.ReadFile(p); err == nil {
		now := time.Now()
		os.Chtimes(p, now, now) // in use: see pruneCache
		return c, nil
	}
	c, err := compress(enc, b)
	if err != nil {
		return nil, err
	}
	if os.MkdirAll(cache, 0o755) == nil {
		if f, err := os.CreateTemp(cache, ".tmp-"); err == nil {
			_, werr := f.Write(c)
			if cerr := f.Close(); werr == nil && cerr == nil {
				os.Rename(f.Name(), p)
			}
			os.Remove(f.Name())
		}
	}
	return c, nil
}

// pruneCache removes the cache's entries unused for longer than age.
func pruneCache(cache string, age time.Duration) {
	if cache == "" {
		return
	}
	ents, _ := os.ReadDir(cache)
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > age {
			os.Remove(filepath.Join(cache, e.Name()))
		}
	}
}

func compress(enc string, b []byte) ([]byte, error) {
	var buf bytes.Buffer
	var w io.WriteCloser
	switch enc {
	case ".gz":
		zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		if err != nil {
			return nil, err
		}
		w = zw
	case ".br":
		w = brotli.NewWriterLevel(&buf, brotli.BestCompression)
	default:
		return nil, fmt.Errorf("unknown encoding %q", enc)
	}
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeDir writes the files into a fresh directory and then puts it in
// place of dir. An existing dir is replaced only when it is empty or looks
// like a site (it has index.html and sw.js), so a mistaken -o cannot wipe
// an unrelated directory.
func writeDir(dir string, maps ...map[string][]byte) error {
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		_, e1 := os.Stat(filepath.Join(dir, "index.html"))
		_, e2 := os.Stat(filepath.Join(dir, "sw.js"))
		if e1 != nil || e2 != nil {
			return fmt.Errorf("refusing to replace %s: it is not empty and not a site built by mksite", dir)
		}
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, ".mksite-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	for _, m := range maps {
		for name, b := range m {
			p := filepath.Join(tmp, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				return err
			}
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.Rename(tmp, dir)
}
