package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bagnetweb/bagnet/internal/testmodel"
)

const (
	fixtures   = "../../testdata/fixtures"
	sharedData = "../../../shared/data"
)

// runCmd runs the program in-process.
func runCmd(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return o.String(), e.String(), code
}

// checkOneLine fails unless stderr is exactly one line without a panic trace.
func checkOneLine(t *testing.T, stderr string) {
	t.Helper()
	if strings.Count(stderr, "\n") != 1 || !strings.HasSuffix(stderr, "\n") {
		t.Errorf("stderr is not exactly one line: %q", stderr)
	}
	for _, bad := range []string{"panic", "goroutine", ".go:"} {
		if strings.Contains(stderr, bad) {
			t.Errorf("stderr contains %q: %q", bad, stderr)
		}
	}
}

// synthetic returns a w x h test picture: colour gradients with a few
// rectangles, different for every seed.
func synthetic(w, h, seed int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetRGBA(x, y, color.RGBA{
				uint8((x*255/max(w-1, 1) + 37*seed) % 256),
				uint8((y*255/max(h-1, 1) + 91*seed) % 256),
				uint8(((x+y)*3 + 53*seed) % 256), 255})
		}
	}
	for k := 0; k < 3; k++ {
		x0, y0 := (seed*17+k*29)%max(w/2, 1), (seed*23+k*41)%max(h/2, 1)
		c := color.RGBA{uint8(seed * 70), uint8(k * 90), uint8(200 - seed*30), 255}
		for y := y0; y < min(h, y0+h/4); y++ {
			for x := x0; x < min(w, x0+w/4); x++ {
				img.SetRGBA(x, y, c)
			}
		}
	}
	return img
}

// writePNG writes img to dir/name and returns the path.
func writePNG(t *testing.T, dir, name string, img image.Image) string {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// int8Model writes a random int8 model file (Imagenette classes, 64x64
// squash input) and returns its path.
func int8Model(t *testing.T, o testmodel.Options) string {
	t.Helper()
	b, err := testmodel.Int8(o)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "model.safetensors")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		out, errOut, code := runCmd(t, args...)
		if code != 0 || errOut != "" {
			t.Errorf("%v: exit %d, stderr %q", args, code, errOut)
		}
		for _, c := range commands {
			if !strings.Contains(out, "\t"+c.name+" ") {
				t.Errorf("%v: help does not list %s:\n%s", args, c.name, out)
			}
		}
	}
	for _, c := range commands {
		for _, args := range [][]string{{"help", c.name}, {c.name, "-h"}} {
			out, errOut, code := runCmd(t, args...)
			if code != 0 || errOut != "" || !strings.HasPrefix(out, "usage: bagnet "+c.name) || !strings.Contains(out, "Flags:") {
				t.Errorf("%v: exit %d, stderr %q, stdout:\n%s", args, code, errOut, out)
			}
		}
	}
}

func TestUsageErrors(t *testing.T) {
	img := writePNG(t, t.TempDir(), "x.png", synthetic(40, 30, 1))
	tests := []struct {
		args []string
		want string
	}{
		{nil, "missing command"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"help", "frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"classify"}, "no images given"},
		{[]string{"classify", "-bogus", img}, "flag provided but not defined: -bogus"},
		{[]string{"classify", "-top", "0", img}, "-top 0"},
		{[]string{"classify", "-top", "x", img}, "invalid value"},
		{[]string{"heatmap", img}, "missing -o"},
		{[]string{"heatmap", "-o", "x.png"}, "want exactly one image"},
		{[]string{"heatmap", "-o", "x.png", "-alpha", "1.5", img}, "-alpha 1.5"},
		{[]string{"heatmap", "-o", "x.png", "-max-side", "3", img}, "-max-side 3"},
		{[]string{"eval"}, "want exactly one directory"},
		{[]string{"eval", "-workers", "0", "dir"}, "-workers 0"},
		{[]string{"eval", "-limit", "-1", "dir"}, "-limit -1"},
		{[]string{"patches", "dir"}, "missing -class"},
		{[]string{"patches", "-class", "tench"}, "want exactly one directory"},
		{[]string{"patches", "-class", "tench", "-n", "0", "dir"}, "-n 0"},
		{[]string{"patches", "-class", "tench", "-per-image", "0", "dir"}, "-per-image 0"},
		{[]string{"patches", "-class", "tench", "-tile", "2", "dir"}, "-tile 2"},
		{[]string{"patches", "-class", "tench", "-workers", "0", "dir"}, "-workers 0"},
		{[]string{"patches", "-class", "tench", "-limit", "-2", "dir"}, "-limit -2"},
		{[]string{"version", "extra"}, "takes no arguments"},
		{[]string{"convert", "-float", "in.pth"}, "missing -o"},
		{[]string{"convert", "-float", "-o", "x"}, "want exactly one checkpoint"},
		{[]string{"convert", "-o", "x", "in.pth"}, "int8 needs -calib DIR"},
		{[]string{"convert", "-float", "-calib", "d", "-o", "x", "in.pth"}, "-calib is for int8"},
		{[]string{"convert", "-float", "-arch", "bagnet5", "-o", "x", "in.pth"}, `-arch "bagnet5"`},
		{[]string{"convert", "-float", "-preprocess", "stretch", "-o", "x", "in.pth"}, `-preprocess "stretch"`},
		{[]string{"convert", "-float", "-size", "0", "-o", "x", "in.pth"}, "-size 0"},
		{[]string{"convert", "-calib", "d", "-calib-n", "0", "-o", "x", "in.pth"}, "-calib-n 0"},
		{[]string{"convert", "-float", "-size", "20", "-o", filepath.Join(t.TempDir(), "x"), filepath.Join(fixtures, "bagnet33.pth")}, "smaller than bagnet33's 33-pixel patch"},
	}
	for _, tt := range tests {
		out, errOut, code := runCmd(t, tt.args...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", tt.args, code, errOut)
		}
		if out != "" {
			t.Errorf("%v: stdout %q, want nothing", tt.args, out)
		}
		checkOneLine(t, errOut)
		if !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: stderr %q does not mention %q", tt.args, errOut, tt.want)
		}
	}
}

// A panic anywhere in a command is one line on stderr and exit status 1.
func TestPanicIsOneLine(t *testing.T) {
	boom := &command{name: "boom", opts: func() options { return boomOpts{} }}
	commands = append(commands, boom)
	defer func() { commands = commands[:len(commands)-1] }()
	_, errOut, code := runCmd(t, "boom")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	checkOneLine(t, errOut)
	if !strings.Contains(errOut, "internal error: kaboom; second line") {
		t.Errorf("stderr %q", errOut)
	}
}

// boomOpts is a command that panics.
type boomOpts struct{}

func (boomOpts) define(*flag.FlagSet)     {}
func (boomOpts) run(*env, []string) error { panic(errors.New("kaboom\nsecond line")) }

func TestParseFlagsInterspersed(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(new(bytes.Buffer))
	o := fs.String("o", "", "")
	v := fs.Bool("v", false, "")
	pos, err := parseFlags(fs, []string{"a", "-o", "out", "b", "-v", "--", "-c"})
	if err != nil {
		t.Fatal(err)
	}
	if *o != "out" || !*v || strings.Join(pos, ",") != "a,b,-c" {
		t.Errorf("o=%q v=%v pos=%q", *o, *v, pos)
	}
}

func mustWrite(t testing.TB, path, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSpread(t *testing.T) {
	items := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	tests := []struct {
		n    int
		want string
	}{
		{0, "[0 1 2 3 4 5 6 7 8 9]"},
		{10, "[0 1 2 3 4 5 6 7 8 9]"},
		{20, "[0 1 2 3 4 5 6 7 8 9]"},
		{1, "[0]"},
		{2, "[0 5]"},
		{3, "[0 3 6]"},
		{4, "[0 2 5 7]"},
	}
	for _, tt := range tests {
		if got := fmt.Sprint(spread(items, tt.n)); got != tt.want {
			t.Errorf("spread(10 items, %d) = %s, want %s", tt.n, got, tt.want)
		}
	}
}

func TestProgress(t *testing.T) {
	var b bytes.Buffer
	now := time.Unix(0, 0)
	p := newProgress(&b, "evaluating", 100)
	p.now = func() time.Time { return now }
	p.start, p.last = now, now
	for i := 1; i <= 10; i++ { // 10 s: too soon for a log line
		now = now.Add(time.Second)
		p.update(i)
	}
	if b.Len() != 0 {
		t.Fatalf("progress printed %q within the first %v", b.String(), logEvery)
	}
	now = now.Add(logEvery)
	p.update(50)
	if got, want := b.String(), "evaluating  50/100 2.0 img/s ETA 0:25\n"; got != want {
		t.Errorf("log line %q, want %q", got, want)
	}
	b.Reset()
	now = now.Add(25 * time.Second)
	p.finish(100)
	if got, want := b.String(), "evaluating 100/100 2.0 img/s in 0:50\n"; got != want {
		t.Errorf("final line %q, want %q", got, want)
	}

	// A short run prints nothing at all.
	b.Reset()
	q := newProgress(&b, "calibrating", 3)
	q.update(3)
	q.finish(3)
	if b.Len() != 0 {
		t.Errorf("short run printed %q", b.String())
	}

	// On a terminal the bar redraws one line.
	b.Reset()
	r := newProgress(&b, "calibrating", 256)
	r.tty, r.now = true, func() time.Time { return now }
	r.start, r.last = now, now
	now = now.Add(10 * time.Second)
	r.update(123)
	if got, want := b.String(), "\rcalibrating  123/256 [===========>            ] 12.3 img/s ETA 0:11 "; got != want {
		t.Errorf("bar %q, want %q", got, want)
	}
	r.finish(256)
	if !strings.HasSuffix(b.String(), "] 25.6 img/s in 0:10 \n") {
		t.Errorf("final bar %q", b.String())
	}
}

func TestFindImages(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"b/2.JPEG", "b/1.png", "a.webp", "c/d/e.tif", "notes.txt", ".hidden.jpg", ".cache/x.jpg", "b/.x/y.png"} {
		mustWrite(t, filepath.Join(dir, f), "")
	}
	want := []string{"a.webp", "b/1.png", "b/2.JPEG", "c/d/e.tif"}
	for i := range want {
		want[i] = filepath.Join(dir, want[i])
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	for _, root := range []string{dir, link} {
		got, err := findImages(root)
		if err != nil {
			t.Fatal(err)
		}
		if root == link {
			for i := range got {
				got[i] = filepath.Join(dir, strings.TrimPrefix(got[i], link))
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("findImages(%s) = %v, want %v", root, got, want)
		}
	}
	if _, err := findImages(want[0]); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("findImages of a file: %v", err)
	}
}

// A binary built from the checkout, copied elsewhere and run from a
// directory outside the repository, classifies with no flags (the model is
// embedded), and `bagnet version` names the embedded file and its SHA-256.
func TestBinaryRunsAnywhere(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	dir := t.TempDir()
	exe := filepath.Join(dir, "bagnet")
	build := exec.Command("go", "build", "-o", exe, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	img := writePNG(t, dir, "x.png", synthetic(90, 70, 2))
	cmd := exec.Command(exe, "classify", "-json", "x.png")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("classify from %s: %v", dir, err)
	}
	var res struct {
		Model  string    `json:"model"`
		Logits []float32 `json:"logits"`
	}
	if err := json.Unmarshal(out, &res); err != nil || len(res.Logits) != 10 {
		t.Fatalf("classify output %q: %v", out, err)
	}
	// The same logits as the model file in the repository.
	ref, _, code := runCmd(t, "classify", "-json", "-weights", "../../weights/shipped/bagnet33_imagenette_int8.safetensors", img)
	var want struct {
		Logits []float32 `json:"logits"`
	}
	if code != 0 || json.Unmarshal([]byte(ref), &want) != nil || !reflect.DeepEqual(res.Logits, want.Logits) {
		t.Errorf("embedded model's logits %v differ from the file's: %s", res.Logits, ref)
	}

	b, err := os.ReadFile("../../weights/shipped/bagnet33_imagenette_int8.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	for _, args := range [][]string{{"version"}, {"-version"}} {
		cmd := exec.Command(exe, args...)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		s := string(out)
		if !strings.HasPrefix(s, "bagnet ") || !strings.Contains(s, hex.EncodeToString(sum[:])) ||
			!strings.Contains(s, "BagNet-33 Imagenette") || !strings.Contains(s, fmt.Sprintf("%d bytes", len(b))) {
			t.Errorf("%v:\n%s", args, s)
		}
	}
}

// mustRead reads a file the test needs.
func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
