package main

import (
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/bagnetweb/bagnet/engine"
	"github.com/bagnetweb/bagnet/model/kernel/tensorkernel"
	"github.com/bagnetweb/bagnet/weights/shipped"
)

// defaultWeights names the model embedded in the binary (package
// weights/shipped) in messages.
const defaultWeights = "the embedded model (" + shipped.Path + ")"

// loadEngine loads the model file named by -weights, or the shipped model.
func loadEngine(path string) (*engine.Engine, error) {
	e, _, err := loadEngineAt(path)
	return e, err
}

// loadEngineAt is loadEngine that also returns the path it loaded. Float
// models get the native BLAS kernel.
func loadEngineAt(path string) (*engine.Engine, string, error) {
	if path == "" {
		e, err := engine.Load(shipped.Model())
		if err != nil { // only a broken build gets here: the shipped-model tests load it
			return nil, "", fileErr(defaultWeights, err)
		}
		return e, defaultWeights, nil
	}
	if st, err := os.Stat(path); err != nil {
		return nil, "", fileErr(path, err)
	} else if st.IsDir() {
		return nil, "", fileErrf(path, "is a directory, not a model file")
	}
	e, err := engine.LoadFile(path)
	if err != nil {
		if looksLikePyTorch(path) {
			return nil, "", fileErrf(path, "a PyTorch checkpoint, not a model file: convert it first with 'bagnet convert'")
		}
		return nil, "", fileErr(path, err)
	}
	if e.Float != nil {
		e.Float.Kernels = tensorkernel.Kernels{}
	}
	return e, path, nil
}

// resolveClass is engine.ClassIndex whose error for a class the model does
// not have says which classes it does have: all of them when there are few,
// else the names that contain s.
func resolveClass(eng *engine.Engine, s, wpath string) (int, error) {
	c, err := eng.ClassIndex(s)
	if err == nil {
		return c, nil
	}
	if _, nerr := strconv.Atoi(s); nerr == nil { // an index out of range: the error says the range
		return 0, fileErr(wpath, err)
	}
	var names []string
	if len(eng.Classes) <= maxListedClasses {
		for _, cl := range eng.Classes {
			names = append(names, cl.Name)
		}
		return 0, fileErrf(wpath, "unknown class %q: this model knows only these %d classes: %s", s, len(eng.Classes), strings.Join(names, ", "))
	}
	for _, cl := range eng.Classes {
		if strings.Contains(strings.ToLower(cl.Name), strings.ToLower(s)) {
			names = append(names, cl.Name)
		}
	}
	if len(names) == 0 {
		return 0, fileErrf(wpath, "unknown class %q: none of the model's %d class names contains it (give an index, a WordNet id or a name)", s, len(eng.Classes))
	}
	return 0, fileErrf(wpath, "unknown class %q: of the model's %d classes, these names contain it: %s", s, len(eng.Classes), listNames(names, 12))
}

// maxListedClasses is the most classes an unknown-class error lists in full.
const maxListedClasses = 30

// looksLikePyTorch reports whether path starts like a torch.save file (a
// zip archive or a legacy pickle).
func looksLikePyTorch(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [4]byte
	n, _ := io.ReadFull(f, b[:])
	return n >= 2 && (string(b[:2]) == "PK" || b[0] == 0x80)
}
