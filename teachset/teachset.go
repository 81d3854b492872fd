// Package teachset lists the classes of a folder to teach from, as
// 'bagnet teach' and the page's "Teach your own classes" both do: one
// folder of images per class, the folder name is the class id and, unless
// the folder's classes.tsv names it, its name. Classes are sorted by id,
// the images of each by path. It links in js/wasm, so the page lists a
// chosen folder exactly as the command line lists a directory.
package teachset

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/bagnetweb/bagnet/preprocess/imagefile"
)

// TSV is the name of the optional file of class names in the folder.
const TSV = "classes.tsv"

// Class is one class folder: its id (the folder name), its name and its
// images (sorted paths).
type Class struct {
	ID, Name string
	Images   []string
}

// ParseNames reads a classes.tsv (id<TAB>name per line; empty lines and
// lines starting with '#' are skipped). The error names the bad line.
func ParseNames(b []byte) (map[string]string, error) {
	names := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, name, ok := strings.Cut(line, "\t")
		id, name = strings.TrimSpace(id), strings.TrimSpace(name)
		if !ok || id == "" || name == "" {
			return nil, fmt.Errorf("line %d: want a class id, a tab and a name, got %q", n, line)
		}
		names[id] = name
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return names, nil
}

// Build makes the classes from their ids and images (in any order; they
// are sorted here), naming them from names (ids without a folder are
// ignored), and keeps the first limit images of each when limit > 0. It
// fails when a class has no image or there are fewer than 2 classes; the
// error does not name the folder (the caller adds it).
func Build(images map[string][]string, names map[string]string, limit int) ([]Class, error) {
	var classes []Class
	for id, imgs := range images {
		imgs = append([]string(nil), imgs...)
		sort.Strings(imgs)
		if limit > 0 && len(imgs) > limit {
			imgs = imgs[:limit]
		}
		name := id
		if n, ok := names[id]; ok {
			name = n
		}
		classes = append(classes, Class{ID: id, Name: name, Images: imgs})
	}
	sort.Slice(classes, func(a, b int) bool { return classes[a].ID < classes[b].ID })
	for _, c := range classes {
		if len(c.Images) == 0 {
			return nil, &NoImagesError{ID: c.ID}
		}
	}
	if len(classes) < 2 {
		return nil, &TooFewError{N: len(classes)}
	}
	return classes, nil
}

// NoImagesError says class folder ID has no image.
type NoImagesError struct{ ID string }

func (e *NoImagesError) Error() string {
	return fmt.Sprintf("no images (looked for %s files): every class folder needs at least one", strings.Join(imagefile.Exts(), ", "))
}

// TooFewError says the folder has N < 2 class folders.
type TooFewError struct{ N int }

func (e *TooFewError) Error() string {
	return fmt.Sprintf("has %d class folders: teaching needs at least 2 (one folder of images per class, named by the class)", e.N)
}

// FromPaths lists the classes of a chosen folder from its files' paths,
// slash-separated and starting with the folder's own name
// (FOLDER/CLASS/..., as a browser's webkitRelativePath), with tsv the
// bytes of FOLDER/classes.tsv (nil: none). Folders directly inside FOLDER
// are the classes; their images are found at any depth; hidden files and
// folders and files that are not images are left out, as are files
// directly in FOLDER. Errors name the folder or file at fault.
func FromPaths(paths []string, tsv []byte, limit int) ([]Class, error) {
	folder := ""
	images := map[string][]string{}
	for _, p := range paths {
		parts := strings.Split(p, "/")
		if folder == "" {
			folder = parts[0]
		}
		if len(parts) < 3 {
			continue
		}
		hidden := false
		for _, e := range parts[1:] {
			hidden = hidden || strings.HasPrefix(e, ".")
		}
		if strings.HasPrefix(parts[1], ".") {
			continue
		}
		if _, ok := images[parts[1]]; !ok {
			images[parts[1]] = nil
		}
		if !hidden && imagefile.Is(path.Base(p)) {
			images[parts[1]] = append(images[parts[1]], p)
		}
	}
	var names map[string]string
	if tsv != nil {
		var err error
		if names, err = ParseNames(tsv); err != nil {
			return nil, fmt.Errorf("%s: %v", path.Join(folder, TSV), err)
		}
	}
	classes, err := Build(images, names, limit)
	if e, ok := err.(*NoImagesError); ok {
		return nil, fmt.Errorf("%s: %v", path.Join(folder, e.ID), err)
	}
	if err != nil {
		if folder == "" {
			folder = "the chosen folder"
		}
		return nil, fmt.Errorf("%s: %v", folder, err)
	}
	return classes, nil
}

// DefaultName is a taught model's name when none is given: "BagNet
// taught: " and the folder's base name.
func DefaultName(folder string) string { return "BagNet taught: " + folder }
