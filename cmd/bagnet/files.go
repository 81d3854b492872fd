package main

import (
	"errors"
	"fmt"
	"github.com/bagnetweb/bagnet/preprocess/imagefile"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// findImages lists the image files under dir, recursively, sorted. Hidden
// files and directories (names starting with '.') are skipped. dir may be a
// symbolic link to a directory; links below it are not followed.
func findImages(dir string) ([]string, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fileErr(dir, err)
	}
	if !st.IsDir() {
		return nil, fileErrf(dir, "not a directory")
	}
	root := filepath.Clean(dir) + string(filepath.Separator) // walks the target of a link
	var out []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fileErr(p, err)
		}
		if p != root && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() && imagefile.Is(p) {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(out)
	return out, nil
}

// spread picks n of the items evenly spaced (deterministic); all of them
// when there are at most n.
func spread[T any](items []T, n int) []T {
	if n <= 0 || len(items) <= n {
		return items
	}
	out := make([]T, n)
	for i := range out {
		out[i] = items[i*len(items)/n]
	}
	return out
}

// writeFile writes data to path through a temporary file in the same
// directory, so a failed write never leaves a half-written file.
func writeFile(path string, data []byte) error {
	if err := checkOut(path); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fileErr(path, unwrapPath(err))
	}
	name := tmp.Name()
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(name, 0o644)
	}
	if err == nil {
		err = os.Rename(name, path)
	}
	if err != nil {
		os.Remove(name)
		return fileErr(path, unwrapPath(err))
	}
	return nil
}

// checkOut fails when the output path names a directory (which a rename
// would otherwise report as "file exists").
func checkOut(path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fileErrf(path, "is a directory (want a file name)")
	}
	return nil
}

// unwrapPath drops the temporary file name from an *fs.PathError.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// subDirs lists the folders in dir (following symbolic links), sorted,
// leaving out hidden ones: the class folders of eval, patches and teach.
func subDirs(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fileErr(dir, err)
	}
	var names []string
	for _, ent := range entries {
		name := ent.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || !st.IsDir() {
			continue
		}
		names = append(names, name)
	}
	return names, nil
}

// recovered runs f and turns a panic in it into its error, so that one bad
// image is reported with the others instead of stopping a run.
func recovered(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v", r)
		}
	}()
	return f()
}
