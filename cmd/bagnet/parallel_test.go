package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/bagnetweb/bagnet/engine"
	"github.com/bagnetweb/bagnet/internal/testmodel"
)

// bandModel writes an int8 model whose map splits into 3 bands (BagNet-33,
// 160 px: 16 map rows, at least 5 a band).
func bandModel(t *testing.T) string {
	t.Helper()
	w := int8Model(t, testmodel.Options{Arch: "bagnet33", InputSize: 160, Seed: 4})
	e, err := engine.LoadFile(w)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(e.Bands(3)); n != 3 {
		t.Fatalf("%d bands, the test needs 3", n)
	}
	return w
}

// classify and heatmap on several goroutines (bands of one image's map)
// print and draw exactly what one goroutine does.
func TestBandWorkersIdentical(t *testing.T) {
	w := bandModel(t)
	dir := t.TempDir()
	var imgs []string
	for i := range 4 {
		imgs = append(imgs, writePNG(t, dir, fmt.Sprintf("%d.png", i), synthetic(150+20*i, 190-10*i, i)))
	}
	run1 := func(workers int, args ...string) string {
		t.Helper()
		out, errOut, code := runCmd(t, append([]string{args[0], "-workers", fmt.Sprint(workers), "-weights", w}, args[1:]...)...)
		if code != 0 {
			t.Fatalf("%v -workers %d: exit %d: %s", args, workers, code, errOut)
		}
		return out
	}
	classify := append([]string{"classify", "-json", "-top", "10"}, imgs...)
	want := run1(1, classify...)
	for _, n := range []int{2, 3, 8} {
		if got := run1(n, classify...); got != want {
			t.Errorf("classify -workers %d:\n%s\nwant (-workers 1):\n%s", n, got, want)
		}
	}
	var pngs [][]byte
	for _, n := range []int{1, 3} {
		out := filepath.Join(dir, fmt.Sprintf("heat%d.png", n))
		run1(n, "heatmap", "-class", "3", "-o", out, imgs[1])
		pngs = append(pngs, mustRead(t, out))
	}
	if !bytes.Equal(pngs[0], pngs[1]) {
		t.Error("heatmap -workers 3 draws a different PNG than -workers 1")
	}
	if _, errOut, code := runCmd(t, "classify", "-workers", "0", imgs[0]); code != 2 {
		t.Errorf("-workers 0: exit %d, stderr %q", code, errOut)
	}
}

// Calibrating on several goroutines writes the same model file, byte for
// byte, as on one.
func TestConvertWorkersIdentical(t *testing.T) {
	calib := calibDir(t, fixtureImages(t))
	dir := t.TempDir()
	var files [][]byte
	for _, n := range []string{"1", "3"} {
		out := filepath.Join(dir, "m"+n+".safetensors")
		if _, errOut, code := runCmd(t, "convert", "-workers", n, "-calib", calib, "-preprocess", "squash", "-size", "64", "-o", out, filepath.Join(fixtures, "bagnet17.pth")); code != 0 {
			t.Fatalf("-workers %s: exit %d: %s", n, code, errOut)
		}
		files = append(files, mustRead(t, out))
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Error("convert -workers 3 wrote a different file than -workers 1")
	}
	// A bad calibration image is reported by name, whichever worker meets it.
	mustWrite(t, filepath.Join(calib, "img00.png"), "not a PNG")
	_, errOut, code := runCmd(t, "convert", "-workers", "3", "-calib", calib, "-o", filepath.Join(dir, "x.safetensors"), filepath.Join(fixtures, "bagnet17.pth"))
	if code != 1 || !bytes.HasPrefix([]byte(errOut), []byte("bagnet: "+filepath.Join(calib, "img00.png")+": ")) {
		t.Errorf("bad image: exit %d, stderr %q", code, errOut)
	}
}
