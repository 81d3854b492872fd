package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	"github.com/bagnetweb/bagnet/weights"
)

func archive(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(names))) // not in name order, like a real archive
	for _, n := range names {
		tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(files[n])), Typeflag: tar.TypeReg})
		tw.Write([]byte(files[n]))
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func TestPick(t *testing.T) {
	classes := []weights.Class{{ID: "n01440764", Name: "tench"}, {ID: "n02102040", Name: "English springer"}, {ID: "n03000684", Name: "chain saw"}}
	tgz := archive(t, map[string]string{
		"imagenette2-160/val/n01440764/b.JPEG":    "tench b",
		"imagenette2-160/val/n01440764/a.JPEG":    "tench a",
		"imagenette2-160/val/n01440764/c.JPEG":    "tench c",
		"imagenette2-160/train/n01440764/0.JPEG":  "train",
		"imagenette2-160/val/n02102040/z.JPEG":    "springer z",
		"imagenette2-160/val/n02102040/notes.txt": "not an image",
		"imagenette2-160/val/n99999999/x.JPEG":    "another class",
		"imagenette2-160/noisy_imagenette.csv":    "csv",
	})
	dir := t.TempDir()
	n, missing, err := pick(bytes.NewReader(tgz), classes, 2, dir)
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 || len(missing) != 1 || missing[0].ID != "n03000684" {
		t.Errorf("n %d, missing %v", n, missing)
	}
	got := map[string]string{}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		got[e.Name()] = string(b)
	}
	want := map[string]string{
		"n01440764_tench.JPEG":            "tench a",
		"n01440764_tench_2.JPEG":          "tench b",
		"n02102040_English_springer.JPEG": "springer z",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("picked %v, want %v", got, want)
	}
	if _, _, err := pick(bytes.NewReader(tgz), []weights.Class{{ID: "n00000001", Name: "x"}}, 1, t.TempDir()); err == nil {
		t.Error("an archive without the model's classes gave no error")
	}
	if _, _, err := pick(bytes.NewReader([]byte("not gzip")), classes, 1, t.TempDir()); err == nil {
		t.Error("a file that is not gzip gave no error")
	}
}
