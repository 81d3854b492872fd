package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/bagnetweb/bagnet/engine"
	"github.com/bagnetweb/bagnet/internal/testmodel"
)

// evalTree copies perClass images of every Imagenette class from the shared
// validation set into a new directory tree DIR/WNID/.
func evalTree(t testing.TB, perClass int) string {
	t.Helper()
	val := filepath.Join(sharedData, "imagenette", "val")
	if _, err := os.Stat(val); err != nil {
		t.Skipf("shared Imagenette data not available: %v", err)
	}
	dir := t.TempDir()
	for _, c := range testmodel.ImagenetteClasses {
		imgs, err := findImages(filepath.Join(val, c.ID))
		if err != nil || len(imgs) < perClass {
			t.Fatalf("%s: %d images, %v", c.ID, len(imgs), err)
		}
		for _, p := range imgs[:perClass] {
			copyFile(t, p, filepath.Join(dir, c.ID, filepath.Base(p)))
		}
	}
	return dir
}

func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	mustWrite(t, dst, string(mustRead(t, src)))
}

type evalJSONOut struct {
	Model    string   `json:"model"`
	Images   int      `json:"images"`
	Errors   int      `json:"errors"`
	Top1     *float64 `json:"top1"`
	Top5     *float64 `json:"top5"`
	PerClass map[string]struct {
		Name   string   `json:"name"`
		Images int      `json:"images"`
		Top1   *float64 `json:"top1"`
		Top5   *float64 `json:"top5"`
	} `json:"per_class"`
	Classes   []string `json:"classes"`
	Columns   []string `json:"columns"`
	Confusion [][]int  `json:"confusion"`
}

func TestEval(t *testing.T) {
	dir := evalTree(t, 2)
	bad := filepath.Join(dir, "n03000684", "broken.jpg")
	mustWrite(t, bad, "\xff\xd8\xff\xe0 not really a JPEG")
	mustWrite(t, filepath.Join(dir, "README.txt"), "stray files are ignored")
	mustWrite(t, filepath.Join(dir, ".cache", "x.jpg"), "hidden folders are ignored")
	w := int8Model(t, testmodel.Options{Seed: 11})

	out, errOut, code := runCmd(t, "eval", "-json", "-workers", "3", "-weights", w, dir)
	if code != 1 {
		t.Errorf("exit %d, want 1 for an unreadable image", code)
	}
	checkOneLine(t, errOut)
	if !strings.HasPrefix(errOut, "bagnet: "+bad+": ") {
		t.Errorf("stderr %q does not report %s", errOut, bad)
	}
	var got evalJSONOut
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}

	// Reference: every image classified by the engine, one at a time.
	eng, err := engine.LoadFile(w)
	if err != nil {
		t.Fatal(err)
	}
	classes := testmodel.ImagenetteClasses
	conf := make([][]int, len(classes))
	var top1, top5 int
	perTop1 := map[string]int{}
	for r, c := range classes {
		conf[r] = make([]int, len(classes))
		imgs, _ := filepath.Glob(filepath.Join(dir, c.ID, "*.JPEG"))
		sort.Strings(imgs)
		if len(imgs) != 2 {
			t.Fatalf("%s: %d images", c.ID, len(imgs))
		}
		for _, p := range imgs {
			b, _ := os.ReadFile(p)
			a, err := eng.Classify(b, 5)
			if err != nil {
				t.Fatal(err)
			}
			conf[r][a.Top[0].Index]++
			if a.Top[0].Index == r {
				top1++
				perTop1[c.ID]++
			}
			for _, p := range a.Top {
				if p.Index == r {
					top5++
				}
			}
		}
	}
	if got.Images != 20 || got.Errors != 1 || got.Model != eng.Label() {
		t.Errorf("images %d errors %d model %q; want 20, 1, %q", got.Images, got.Errors, got.Model, eng.Label())
	}
	if got.Top1 == nil || *got.Top1 != float64(top1)/20 || got.Top5 == nil || *got.Top5 != float64(top5)/20 {
		t.Errorf("top1 %v top5 %v, want %v %v", got.Top1, got.Top5, float64(top1)/20, float64(top5)/20)
	}
	var ids []string
	for _, c := range classes {
		ids = append(ids, c.ID)
		pc, ok := got.PerClass[c.ID]
		if !ok || pc.Name != c.Name || pc.Images != 2 || pc.Top1 == nil || *pc.Top1 != float64(perTop1[c.ID])/2 {
			t.Errorf("per_class[%s] = %+v, want %s, 2 images, top1 %v", c.ID, pc, c.Name, float64(perTop1[c.ID])/2)
		}
	}
	if strings.Join(got.Classes, ",") != strings.Join(ids, ",") || strings.Join(got.Columns, ",") != strings.Join(ids, ",") {
		t.Errorf("classes %v columns %v", got.Classes, got.Columns)
	}
	if !reflect.DeepEqual(got.Confusion, conf) {
		t.Errorf("confusion %v, want %v", got.Confusion, conf)
	}

	// -limit 1: one image per class (the first of each sorted folder), and
	// the text report.
	out, errOut, code = runCmd(t, "eval", "-limit", "1", "-workers", "1", "-weights", w, dir)
	if code != 0 || errOut != "" {
		t.Fatalf("-limit 1: exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"10 images in 10 classes", "top-1 ", "top-5 ", "n03888257  parachute", "confusion matrix"} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "\n") != 5+11+2+1+10 {
		t.Errorf("text report has %d lines:\n%s", strings.Count(out, "\n"), out)
	}
}

// A class folder the model does not know is an error naming the folder; a
// model with more classes than the data gets an "other" column.
func TestEvalClassFolders(t *testing.T) {
	dir := t.TempDir()
	w := int8Model(t, testmodel.Options{})
	for i, id := range []string{"n01440764", "n03028079"} {
		writePNG(t, filepath.Join(mkdir(t, dir, id)), "a.png", synthetic(70, 60, i))
		writePNG(t, filepath.Join(dir, id), "b.png", synthetic(60, 70, i+5))
	}
	out, errOut, code := runCmd(t, "eval", "-json", "-weights", w, dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got evalJSONOut
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got.Images != 4 || len(got.Confusion) != 2 || len(got.Confusion[0]) != 3 || got.Columns[2] != "other" {
		t.Errorf("report %+v", got)
	}
	sum := 0
	for _, row := range got.Confusion {
		for _, v := range row {
			sum += v
		}
	}
	if sum != 4 {
		t.Errorf("confusion counts %d images, want 4", sum)
	}

	// A folder the model has no class for is skipped with a warning naming
	// it (issue 16: it used to stop the whole run), and listed in the report.
	writePNG(t, mkdir(t, dir, "n99999999"), "c.png", synthetic(50, 50, 9))
	out, errOut, code = runCmd(t, "eval", "-json", "-weights", w, dir)
	if code != 0 || !strings.HasPrefix(errOut, "bagnet: warning: "+filepath.Join(dir, "n99999999")+": skipped") {
		t.Errorf("unknown folder: exit %d, stderr %q", code, errOut)
	}
	checkOneLine(t, errOut)
	var skip evalJSONOut
	if err := json.Unmarshal([]byte(out), &skip); err != nil {
		t.Fatal(err)
	}
	if skip.Images != 4 || !reflect.DeepEqual(skip.Confusion, got.Confusion) || !strings.Contains(out, `"skipped":["n99999999"]`) {
		t.Errorf("with an unknown folder: %s", out)
	}
	out, _, _ = runCmd(t, "eval", "-weights", w, dir)
	if !strings.Contains(out, "skipped 1 folder(s) the model has no class for: n99999999\n") {
		t.Errorf("text report does not list the skipped folder:\n%s", out)
	}
}

func mkdir(t *testing.T, parts ...string) string {
	t.Helper()
	p := filepath.Join(parts...)
	if err := os.MkdirAll(p, 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// Parallel workers share one engine: the report equals a sequential run's,
// for int8 and for float (BLAS) models. Run with -race.
func TestEvalParallel(t *testing.T) {
	dir := t.TempDir()
	classes := filepath.Join(dir, "classes.tsv")
	var lines []string
	for _, c := range testmodel.ImagenetteClasses {
		lines = append(lines, c.ID+"\t"+c.Name)
	}
	mustWrite(t, classes, strings.Join(lines, "\n")+"\n")
	floatModel := filepath.Join(dir, "float.safetensors")
	if _, errOut, code := runCmd(t, "convert", "-float", "-classes", classes, "-preprocess", "squash", "-size", "48", "-o", floatModel, filepath.Join(fixtures, "bagnet9.pth")); code != 0 {
		t.Fatal(errOut)
	}
	data := mkdir(t, dir, "data")
	for i, c := range testmodel.ImagenetteClasses[:4] {
		for k := 0; k < 3; k++ {
			writePNG(t, mkdir(t, data, c.ID), "img"+string(rune('a'+k))+".png", synthetic(40+7*k, 60-5*k, 3*i+k))
		}
	}
	for _, w := range []string{int8Model(t, testmodel.Options{Seed: 2, InputSize: 48}), floatModel} {
		seq, errOut, code := runCmd(t, "eval", "-json", "-workers", "1", "-weights", w, data)
		if code != 0 {
			t.Fatalf("%s: %s", w, errOut)
		}
		par, errOut, code := runCmd(t, "eval", "-json", "-workers", "4", "-weights", w, data)
		if code != 0 {
			t.Fatalf("%s: %s", w, errOut)
		}
		if seq != par {
			t.Errorf("%s: parallel report differs:\n%s\n%s", w, par, seq)
		}
		if !strings.Contains(seq, `"images":12,`) {
			t.Errorf("%s: report %s", w, seq)
		}
	}
}
