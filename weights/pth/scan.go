//go:build !js

package pth

import (
	"archive/zip"
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"path"
	"strings"

	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/types"
)

// elemSize is the byte size of one element of each torch storage class.
var elemSize = map[string]int64{
	"FloatStorage": 4, "DoubleStorage": 8, "HalfStorage": 2, "BFloat16Storage": 2,
	"LongStorage": 8, "IntStorage": 4, "ShortStorage": 2, "CharStorage": 1,
	"ByteStorage": 1, "BoolStorage": 1,
}

// storageRef is a storage named by a checkpoint's pickle.
type storageRef struct {
	class string // torch storage class, e.g. "FloatStorage"
	key   string // zip record name under data/, or legacy storage key
	numel int64  // element count as pickled
}

// storageClass stands for a torch.*Storage class during a scan.
type storageClass struct{ name string }

// scanPickle unpickles one pickle from r without loading any tensor data and
// returns the storages it references, by key. Unknown classes become opaque
// objects, so a scan fails only on a malformed pickle.
func scanPickle(r io.Reader) (refs map[string]storageRef, err error) {
	defer func() {
		if p := recover(); p != nil {
			refs, err = nil, fmt.Errorf("the pickle reader panicked: %v", p)
		}
	}()
	refs = map[string]storageRef{}
	u := pickle.NewUnpickler(r)
	u.FindClass = func(module, name string) (any, error) {
		if module == "torch" && strings.HasSuffix(name, "Storage") {
			return storageClass{name}, nil
		}
		return &opaqueClass{Module: module, Name: name}, nil
	}
	u.PersistentLoad = func(id any) (any, error) {
		t, ok := id.(*types.Tuple)
		if !ok || t.Len() == 0 {
			return nil, fmt.Errorf("persistent id is a %s, want a non-empty tuple", pyType(id))
		}
		switch t.Get(0) {
		case "storage":
			if t.Len() < 5 {
				return nil, fmt.Errorf("storage reference has %d fields, want at least 5", t.Len())
			}
			class, okc := t.Get(1).(storageClass)
			key, okk := t.Get(2).(string)
			numel, okn := t.Get(4).(int)
			if !okc || !okk || !okn {
				return nil, fmt.Errorf("malformed storage reference (%s, %s, %s)", pyType(t.Get(1)), pyType(t.Get(2)), pyType(t.Get(4)))
			}
			if _, known := elemSize[class.name]; !known {
				return nil, fmt.Errorf("unsupported storage type torch.%s", class.name)
			}
			if numel < 0 {
				return nil, fmt.Errorf("storage %q has %d elements", key, numel)
			}
			if prev, seen := refs[key]; seen && prev.class != class.name {
				return nil, fmt.Errorf("storage %q is both %s and %s", key, prev.class, class.name)
			}
			refs[key] = storageRef{class: class.name, key: key, numel: int64(numel)}
			return &opaqueObject{&opaqueClass{"torch", class.name}}, nil
		case "module":
			if t.Len() < 2 {
				return nil, errors.New("module reference without a module")
			}
			return t.Get(1), nil
		}
		return nil, fmt.Errorf("unknown persistent id %v", t.Get(0))
	}
	if _, err := u.Load(); err != nil {
		return nil, pickleError(err)
	}
	return refs, nil
}

// pickleError makes an unpickling error readable.
func pickleError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("the pickle ends early (truncated?)")
	}
	return err
}

// checkZip validates a zip checkpoint: the archive is complete, every record's
// checksum is right, and every storage the pickle names is present at full size.
func checkZip(f *os.File, size int64) error {
	zr, err := zip.NewReader(f, size)
	if err != nil {
		return fmt.Errorf("corrupt zip checkpoint (truncated or damaged?): %v", err)
	}
	var pkl *zip.File
	records := map[string]*zip.File{}
	for _, zf := range zr.File {
		records[zf.Name] = zf
		switch path.Base(zf.Name) {
		case "constants.pkl":
			return errors.New("a TorchScript archive (torch.jit.save), not a torch.save checkpoint")
		case "data.pkl":
			if pkl == nil || len(zf.Name) < len(pkl.Name) {
				pkl = zf
			}
		}
	}
	if pkl == nil {
		return errors.New("not a PyTorch checkpoint: a zip archive without data.pkl")
	}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err == nil {
			_, err = io.Copy(io.Discard, rc)
			rc.Close()
		}
		if err != nil {
			return fmt.Errorf("corrupt zip checkpoint: record %s: %v", zf.Name, err)
		}
	}
	scan := func(walk bool) (map[string]storageRef, error) {
		rc, err := pkl.Open()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		if walk {
			_, err := walkPickle(bufio.NewReader(rc), int64(pkl.UncompressedSize64))
			return nil, err
		}
		return scanPickle(bufio.NewReader(rc))
	}
	_, err = scan(true)
	if err != nil {
		return fmt.Errorf("corrupt zip checkpoint: record %s: %v", pkl.Name, err)
	}
	refs, err := scan(false)
	if err != nil {
		return fmt.Errorf("corrupt zip checkpoint: record %s: %v", pkl.Name, err)
	}
	dir := strings.TrimSuffix(pkl.Name, "data.pkl")
	for key, ref := range refs {
		name := dir + "data/" + key
		zf, ok := records[name]
		if !ok {
			return fmt.Errorf("corrupt zip checkpoint: storage record %s is missing", name)
		}
		need := ref.numel * elemSize[ref.class]
		if ref.numel > math.MaxInt64/8 || zf.UncompressedSize64 < uint64(need) {
			return fmt.Errorf("corrupt zip checkpoint: record %s holds %d bytes, its %d-element %s needs %d", name, zf.UncompressedSize64, ref.numel, ref.class, need)
		}
	}
	return nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r *bufio.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

// checkLegacy validates a legacy (pre-1.6) checkpoint: five pickles (magic
// number, protocol version, system info, the object, the storage keys) and
// then, per key, an 8-byte element count and the raw elements, up to exactly
// the end of the file.
func checkLegacy(f *os.File, size int64) error {
	br := bufio.NewReader(io.NewSectionReader(f, 0, size))
	var end int64
	for i, what := range []string{"magic number", "protocol version", "system info", "the object pickle", "storage keys"} {
		n, err := walkPickle(br, size-end)
		if err != nil {
			if i == 0 {
				return fmt.Errorf("not a PyTorch checkpoint: %v", err)
			}
			return fmt.Errorf("corrupt legacy checkpoint: %s: %v", what, err)
		}
		end += n
	}
	cr := &countingReader{r: bufio.NewReader(io.NewSectionReader(f, 0, size))}
	load := func(what string) (v any, err error) {
		defer func() {
			if p := recover(); p != nil {
				v, err = nil, fmt.Errorf("corrupt legacy checkpoint: %s: the pickle reader panicked: %v", what, p)
			}
		}()
		u := pickle.NewUnpickler(cr)
		v, err = u.Load()
		if err != nil {
			return nil, fmt.Errorf("corrupt legacy checkpoint: %s: %v", what, pickleError(err))
		}
		return v, nil
	}
	magic, err := load("magic number")
	if err != nil {
		return err
	}
	if m, ok := magic.(*big.Int); !ok || m.Text(16) != "1950a86a20f9469cfc6c" {
		return errors.New("not a PyTorch checkpoint: wrong magic number")
	}
	version, err := load("protocol version")
	if err != nil {
		return err
	}
	if v, ok := version.(int); !ok || v != 1001 {
		return fmt.Errorf("unsupported legacy checkpoint protocol version %v (want 1001)", version)
	}
	info, err := load("system info")
	if err != nil {
		return err
	}
	if entries, ok := dictEntries(info); ok {
		if le, found := lookup(entries, "little_endian"); found && le == false {
			return errors.New("a big-endian checkpoint is not supported")
		}
	}
	refs, err := scanPickle(cr)
	if err != nil {
		return fmt.Errorf("corrupt legacy checkpoint: the object pickle: %v", err)
	}
	rawKeys, err := load("storage keys")
	if err != nil {
		return err
	}
	keys, ok := rawKeys.(*types.List)
	if !ok {
		return fmt.Errorf("corrupt legacy checkpoint: storage keys are a %s, want a list", pyType(rawKeys))
	}
	pos := cr.n
	if pos != end {
		return fmt.Errorf("corrupt legacy checkpoint: the pickles end at byte %d, not %d", pos, end)
	}
	for i, k := range *keys {
		key, ok := k.(string)
		if !ok {
			return fmt.Errorf("corrupt legacy checkpoint: storage key %d is a %s", i, pyType(k))
		}
		ref, ok := refs[key]
		if !ok {
			return fmt.Errorf("corrupt legacy checkpoint: storage %q is listed but never used", key)
		}
		var buf [8]byte
		if _, err := f.ReadAt(buf[:], pos); err != nil {
			return fmt.Errorf("truncated legacy checkpoint: storage %d of %d (%q) is missing", i+1, len(*keys), key)
		}
		count := binary.LittleEndian.Uint64(buf[:])
		left := size - pos - 8
		if count > uint64(left)/uint64(elemSize[ref.class]) {
			return fmt.Errorf("truncated legacy checkpoint: storage %d of %d (%q) needs %d elements of %s, only %d bytes left", i+1, len(*keys), key, count, ref.class, left)
		}
		pos += 8 + int64(count)*elemSize[ref.class]
	}
	if pos != size {
		return fmt.Errorf("corrupt legacy checkpoint: %d unexpected bytes after the last storage", size-pos)
	}
	return nil
}
