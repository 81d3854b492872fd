package teachset

import (
	"fmt"
	"path"
	"strings"
	"unicode"

	"github.com/bagnetweb/bagnet/preprocess/imagefile"
)

// ClassID derives a class id from a class name typed in the page: the name
// lower-cased, each run of characters other than letters and digits
// replaced by one '-', leading and trailing '-' removed ("Golden
// Retriever!" -> "golden-retriever"). A name without a letter or digit has
// no id (an error).
func ClassID(name string) (string, error) {
	var b strings.Builder
	dash := false
	for _, r := range strings.TrimSpace(name) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(unicode.ToLower(r))
			dash = false
			continue
		}
		dash = true
	}
	if b.Len() == 0 {
		return "", fmt.Errorf("%q: a name needs at least one letter or digit", name)
	}
	return b.String(), nil
}

// Named is a class given by name with the names of its image files, as the
// page's "add images class by class" collects them.
type Named struct {
	Name  string
	Files []string // file names (no folders)
}

// NamedPaths lays named classes out as the folder 'bagnet teach' would
// read: FOLDER/ID/FILE for each image, ID = ClassID(Name), and the bytes
// of a classes.tsv naming every class (id<TAB>name). FromPaths on the
// result lists the classes exactly as it lists that folder: classes sorted
// by id, the images of each by file name. It fails, naming the class or
// file, for a class name without an id, two names with the same id, a
// class without images, a file name that is not an image's or is hidden
// (a folder's would be left out) and a file name twice in one class (a
// folder cannot hold it). Fewer than 2 classes is FromPaths's error.
func NamedPaths(folder string, classes []Named) (paths []string, tsv []byte, err error) {
	seen := map[string]string{}
	var names strings.Builder
	for _, c := range classes {
		id, err := ClassID(c.Name)
		if err != nil {
			return nil, nil, fmt.Errorf("class %w", err)
		}
		if other, dup := seen[id]; dup {
			return nil, nil, fmt.Errorf("classes %q and %q: the same class id %q (names are compared lower-cased, letters and digits only)", other, c.Name, id)
		}
		seen[id] = c.Name
		if len(c.Files) == 0 {
			return nil, nil, fmt.Errorf("class %q has no images: add at least one", c.Name)
		}
		files := map[string]bool{}
		for _, f := range c.Files {
			if err := CheckFileName(f); err != nil {
				return nil, nil, fmt.Errorf("class %q: %w", c.Name, err)
			}
			if files[f] {
				return nil, nil, fmt.Errorf("class %q: %s is there twice (file names within a class must differ, as in a folder)", c.Name, f)
			}
			files[f] = true
			paths = append(paths, path.Join(folder, id, f))
		}
		fmt.Fprintf(&names, "%s\t%s\n", id, strings.TrimSpace(c.Name))
	}
	return paths, []byte(names.String()), nil
}

// CheckFileName says why a file added to a named class cannot be taught
// from: a name with a folder in it, a hidden file or not an image's name
// (a folder's hidden and non-image files are left out).
func CheckFileName(name string) error {
	switch {
	case name == "" || strings.ContainsAny(name, "/\\"):
		return fmt.Errorf("%q: not a plain file name", name)
	case strings.HasPrefix(name, "."):
		return fmt.Errorf("%s: a hidden file (a folder's are left out)", name)
	case !imagefile.Is(name):
		return fmt.Errorf("%s: not an image file (want %s)", name, strings.Join(imagefile.Exts(), ", "))
	}
	return nil
}
