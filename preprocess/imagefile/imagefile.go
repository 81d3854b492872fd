// Package imagefile names the image files the project reads: the file
// name extensions of the formats package preprocess decodes. It is its own
// small package so that the page (which links no decoder) and the
// directory walkers of the CLI share the one list.
package imagefile

import (
	"path/filepath"
	"slices"
	"strings"
)

// exts are the extensions of the formats preprocess.Decode reads, in the
// order messages list them.
var exts = []string{".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff"}

// Exts returns the file name extensions (lower case, with the dot) of the
// formats preprocess.Decode reads: the files that directory walkers take as
// images.
func Exts() []string { return slices.Clone(exts) }

// Is reports whether name ends in one of Exts, in any case.
func Is(name string) bool {
	return slices.Contains(exts, strings.ToLower(filepath.Ext(name)))
}
