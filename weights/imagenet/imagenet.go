// Package imagenet holds the 1000 ImageNet-1k (ILSVRC 2012) classes: index,
// WordNet id and name, the head order of every ImageNet classifier (the
// WordNet ids sorted). The list is this project's own data file,
// classes.tsv, embedded; gen.py wrote it from public sources (see its
// header), so converting the authors' checkpoints needs no ../shared.
package imagenet

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/bagnetweb/bagnet/protocol"
)

// Name selects this list where a class list is asked for (bagnet convert
// -classes imagenet).
const Name = "imagenet"

// Len is the number of classes.
const Len = 1000

//go:embed classes.tsv
var tsv string

// TSV is the embedded file: '#' comment lines, then one
// "index<TAB>wnid<TAB>name" line per class.
func TSV() string { return tsv }

var classes = sync.OnceValues(func() ([]protocol.Class, error) { return parse(tsv) })

// Classes returns the 1000 classes in index order (a new slice each call).
func Classes() []protocol.Class {
	cs, err := classes()
	if err != nil { // only a broken build gets here: the package's test parses the file
		panic("imagenet: classes.tsv: " + err.Error())
	}
	return append([]protocol.Class(nil), cs...)
}

// parse reads the list and checks it: Len lines, indices in order, unique
// WordNet ids in ascending order, non-empty names.
func parse(s string) ([]protocol.Class, error) {
	var cs []protocol.Class
	seen := map[string]bool{}
	for n, line := range strings.Split(s, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			return nil, fmt.Errorf("line %d: %d fields, want index, wnid, name", n+1, len(f))
		}
		if i, err := strconv.Atoi(f[0]); err != nil || i != len(cs) {
			return nil, fmt.Errorf("line %d: index %q, want %d", n+1, f[0], len(cs))
		}
		id, name := f[1], f[2]
		if len(id) != 9 || id[0] != 'n' || name == "" || seen[id] || (len(cs) > 0 && id <= cs[len(cs)-1].ID) {
			return nil, fmt.Errorf("line %d: class %q %q is empty, repeated or out of order", n+1, id, name)
		}
		seen[id] = true
		cs = append(cs, protocol.Class{ID: id, Name: name})
	}
	if len(cs) != Len {
		return nil, fmt.Errorf("%d classes, want %d", len(cs), Len)
	}
	return cs, nil
}
