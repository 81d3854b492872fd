// Command samples picks the sample gallery for the published site from the
// Imagenette archive (fast.ai's imagenette2-160.tgz, downloaded by the Pages
// workflow), so the site's samples come from a public dataset the workflow
// fetches, not from files outside the repository:
//
//	go run ./cmd/samples -model FILE -tgz imagenette2-160.tgz [-per-class 1] -o DIR
//
// For each class of the model (by WordNet id) it copies the first
// -per-class images of val/WNID/ in name order into DIR as
// WNID_Class_name[_K].JPEG, the naming cmd/mksite turns into gallery labels.
// Classes the archive lacks are reported and skipped; an archive with none
// of the model's classes is an error.
package main

import (
	"archive/tar"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bagnetweb/bagnet/weights"
)

func main() {
	modelPath := flag.String("model", "weights/shipped/bagnet33_imagenette_int8.safetensors", "model file whose classes to pick")
	tgz := flag.String("tgz", "", "Imagenette archive (.tgz) with val/WNID/ folders")
	perClass := flag.Int("per-class", 1, "images per class")
	out := flag.String("o", "", "output directory")
	flag.Parse()
	if *tgz == "" || *out == "" || *perClass < 1 || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: samples -model FILE -tgz ARCHIVE [-per-class N] -o DIR")
		os.Exit(2)
	}
	m, err := weights.LoadFile(*modelPath)
	if err != nil {
		fail(err)
	}
	f, err := os.Open(*tgz)
	if err != nil {
		fail(err)
	}
	defer f.Close()
	n, missing, err := pick(f, m.Classes, *perClass, *out)
	if err != nil {
		fail(fmt.Errorf("%s: %w", *tgz, err))
	}
	for _, c := range missing {
		fmt.Fprintf(os.Stderr, "samples: warning: %s has no val/%s/ (%s)\n", *tgz, c.ID, c.Name)
	}
	fmt.Fprintf(os.Stderr, "samples: %d images in %s\n", n, *out)
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "samples: %v\n", err)
	os.Exit(1)
}

// pick streams the archive once, keeping for every class the perClass
// smallest file names under val/WNID/, then writes them into dir.
func pick(r io.Reader, classes []weights.Class, perClass int, dir string) (int, []weights.Class, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return 0, nil, err
	}
	byID := map[string]int{}
	for i, c := range classes {
		if c.ID != "" {
			byID[c.ID] = i
		}
	}
	type entry struct {
		name string
		data []byte
	}
	kept := make([][]entry, len(classes))
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, nil, err
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		parts := strings.Split(path.Clean(h.Name), "/")
		if len(parts) < 3 || parts[len(parts)-3] != "val" {
			continue
		}
		ci, ok := byID[parts[len(parts)-2]]
		base := parts[len(parts)-1]
		if ext := strings.ToLower(path.Ext(base)); !ok || (ext != ".jpeg" && ext != ".jpg" && ext != ".png") {
			continue
		}
		k := kept[ci]
		if len(k) == perClass && base >= k[len(k)-1].name {
			continue
		}
		if h.Size > 64<<20 {
			return 0, nil, fmt.Errorf("%s: %d bytes, too large for a sample", h.Name, h.Size)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return 0, nil, err
		}
		k = append(k, entry{base, b})
		sort.Slice(k, func(a, b int) bool { return k[a].name < k[b].name })
		kept[ci] = k[:min(len(k), perClass)]
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, nil, err
	}
	n := 0
	var missing []weights.Class
	for ci, k := range kept {
		c := classes[ci]
		if c.ID == "" {
			continue
		}
		if len(k) == 0 {
			missing = append(missing, c)
			continue
		}
		for j, e := range k {
			name := c.ID + "_" + strings.Map(func(r rune) rune {
				if r == ' ' || r == '/' || r == '\\' {
					return '_'
				}
				return r
			}, c.Name)
			if j > 0 {
				name += fmt.Sprintf("_%d", j+1)
			}
			name += path.Ext(e.name)
			if err := os.WriteFile(filepath.Join(dir, name), e.data, 0o644); err != nil {
				return 0, nil, err
			}
			n++
		}
	}
	if n == 0 {
		return 0, nil, fmt.Errorf("no val/WNID/ images of the model's classes")
	}
	return n, missing, nil
}
