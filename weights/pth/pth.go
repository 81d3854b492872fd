//go:build !js

// Package pth reads the float tensors of PyTorch checkpoints written by
// torch.save: the zip format of PyTorch 1.6 and later and the legacy format
// before it (the authors' 2018 BagNet checkpoints, often named .pth.tar).
//
// It is a native-only package (it reads files by path, with
// github.com/nlpodyssey/gopickle); the browser build never imports it and
// loads converted safetensors files instead.
//
// Before unpickling, Load checks the file's structure itself: a zip archive
// must be complete with correct checksums and hold every storage it names at
// full size, a legacy file must end exactly after its last storage, and every
// length inside a pickle must fit in the bytes that follow it. A truncated or
// corrupted download therefore gives an error, not silently wrong weights (the
// raw tensor data of a legacy file has no checksum, so a flipped bit there goes
// unnoticed), and memory use is bounded by a multiple of the file's size,
// never by sizes the file claims.
package pth

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"strings"

	"github.com/bagnetweb/bagnet/model"
	"github.com/nlpodyssey/gopickle/pickle"
	"github.com/nlpodyssey/gopickle/pytorch"
	"github.com/nlpodyssey/gopickle/types"
)

// maxElements bounds the element count of one tensor (2^31), and
// maxBroadcast that of a view with more elements than its storage.
const (
	maxElements  = 1 << 31
	maxBroadcast = 1 << 24
)

// legacyMagic is the pickled magic number that starts every legacy
// torch.save file: LONG1 opcode, 10 bytes, 0x1950a86a20f9469cfc6c little-endian.
var legacyMagic = []byte{0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19}

// Load reads a PyTorch checkpoint (zip format or legacy pre-1.6 format, .pth
// or .pth.tar) and returns its float tensors by state-dict name.
//
// It accepts a plain state dict (an OrderedDict or dict of tensors), a dict
// with a "state_dict" (or else "model") entry holding one (other entries, such
// as "epoch" or optimizer state, are ignored), and tensors saved as
// nn.Parameter. A leading "module." (DataParallel) is stripped from every
// name. Integer and bool tensors, such as BatchNorm's num_batches_tracked, are
// dropped.
//
// Float64, float16 and bfloat16 tensors are converted to float32 (float64 is
// rounded to nearest, so it may lose precision); float32 tensors come back
// bit-exact. Tensor views (slices, transposes, tensors sharing one storage)
// are gathered with their storage offset and strides into dense row-major
// tensors.
//
// Errors name the file and the problem: a missing or empty file, a file that
// is not a PyTorch checkpoint, a truncated or corrupted one, a checkpoint that
// holds no state dict or no float tensors, an entry that is not a tensor or is
// a nested dict. Panics inside the pickle reader are recovered into errors.
func Load(path string) (model.StateDict, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("pth: %w", err)
	}
	if info.IsDir() {
		return nil, fmt.Errorf("pth: %s: is a directory, not a PyTorch checkpoint", path)
	}
	if info.Size() == 0 {
		return nil, fmt.Errorf("pth: %s: empty file, not a PyTorch checkpoint", path)
	}
	if err := checkStructure(path, info.Size()); err != nil {
		return nil, fmt.Errorf("pth: %s: %w", path, err)
	}
	obj, err := unpickle(path)
	if err != nil {
		return nil, fmt.Errorf("pth: %s: %w", path, err)
	}
	// Output budget: tensors may share storage (views, tied weights) and
	// float16 doubles in size, so allow the file's size in elements.
	sd, err := stateDict(obj, info.Size()+maxBroadcast)
	if err != nil {
		return nil, fmt.Errorf("pth: %s: %w", path, err)
	}
	return sd, nil
}

// checkStructure identifies the format from the file's first bytes and
// validates its layout.
func checkStructure(path string, size int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF {
		return err
	}
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return checkZip(f, size)
	case len(head) >= 2 && head[0] == 0x80 && bytes.Contains(head[:min(len(head), 32)], legacyMagic):
		return checkLegacy(f, size)
	case len(head) >= 262 && string(head[257:262]) == "ustar":
		return errors.New("an old tar-format checkpoint (PyTorch before 0.4) is not supported: load it in Python and save it again with torch.save")
	case bytes.HasPrefix(head, []byte("PK")):
		return errors.New("not a PyTorch checkpoint: a zip archive that does not start with a file record")
	case head[0] == 0x80:
		return errors.New("not a PyTorch checkpoint: a plain Python pickle without torch.save's header")
	default:
		return fmt.Errorf("not a PyTorch checkpoint: starts with % x, neither a zip archive nor a legacy torch.save file", head[:min(len(head), 8)])
	}
}

// unpickle runs gopickle on the file, turning its panics into errors.
func unpickle(path string) (obj any, err error) {
	defer func() {
		if r := recover(); r != nil {
			obj, err = nil, fmt.Errorf("corrupt or unsupported checkpoint (the pickle reader panicked: %v)", r)
		}
	}()
	obj, err = pytorch.LoadWithUnpickler(path, func(r io.Reader) pickle.Unpickler {
		u := pickle.NewUnpickler(r)
		// Consulted only for classes gopickle does not know itself.
		u.FindClass = findClass
		return u
	})
	if err != nil {
		return nil, fmt.Errorf("reading checkpoint: %v", err)
	}
	return obj, nil
}

// findClass resolves the classes gopickle's pytorch package leaves out:
// nn.Parameter's rebuild function, and any other class as an opaque object so
// that extra checkpoint entries (numpy scalars, argparse namespaces) do not
// stop the state dict from loading.
func findClass(module, name string) (any, error) {
	if module == "torch._utils" && name == "_rebuild_parameter" {
		return rebuildParameter{}, nil
	}
	return &opaqueClass{Module: module, Name: name}, nil
}

// rebuildParameter is torch._utils._rebuild_parameter(data, requires_grad,
// backward_hooks): the parameter's value is its tensor.
type rebuildParameter struct{}

func (rebuildParameter) Call(args ...any) (any, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("_rebuild_parameter: %d arguments, want 3", len(args))
	}
	if _, ok := args[0].(*pytorch.Tensor); !ok {
		return nil, fmt.Errorf("_rebuild_parameter: data is a %s, not a tensor", pyType(args[0]))
	}
	return args[0], nil
}

// opaqueClass stands for a Python class this package does not model.
type opaqueClass struct{ Module, Name string }

// opaqueObject is an instance of an opaqueClass (its state is discarded).
type opaqueObject struct{ class *opaqueClass }

func (c *opaqueClass) Call(args ...any) (any, error)  { return &opaqueObject{c}, nil }
func (c *opaqueClass) PyNew(args ...any) (any, error) { return &opaqueObject{c}, nil }
func (o *opaqueObject) PySetState(state any) error    { return nil }

// stateDict finds the state dict in an unpickled checkpoint and converts it.
// It gathers at most budget elements in all.
func stateDict(obj any, budget int64) (model.StateDict, error) {
	top, ok := dictEntries(obj)
	if !ok {
		if o, isObj := obj.(*opaqueObject); isObj {
			return nil, fmt.Errorf("holds a pickled Python object %s.%s, not a state dict (save model.state_dict() instead)", o.class.Module, o.class.Name)
		}
		return nil, fmt.Errorf("holds a %s, not a state dict", pyType(obj))
	}
	entries, where := top, "the state dict"
	for _, key := range []string{"state_dict", "model"} {
		v, found := lookup(top, key)
		if !found {
			continue
		}
		inner, isDict := dictEntries(v)
		if !isDict {
			if _, isTensor := v.(*pytorch.Tensor); isTensor {
				continue // a plain state dict with a tensor called "model"
			}
			return nil, fmt.Errorf("entry %q is a %s, not a state dict", key, pyType(v))
		}
		entries, where = inner, fmt.Sprintf("the state dict under %q", key)
		break
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("%s is empty: no tensors", where)
	}
	hint := "" // for a checkpoint that holds its state dict under another key
	if where == "the state dict" {
		hint = " (checkpoint keys: " + keyList(entries) + ")"
	}
	sd := model.StateDict{}
	from := map[string]string{}
	for _, e := range entries {
		key, ok := e.Key.(string)
		if !ok {
			return nil, fmt.Errorf("%s has a key of type %s (%v), want strings", where, pyType(e.Key), e.Key)
		}
		name := key
		for strings.HasPrefix(name, "module.") {
			name = strings.TrimPrefix(name, "module.")
		}
		var t *model.Tensor
		switch v := e.Value.(type) {
		case *pytorch.Tensor:
			n := int64(1)
			for _, d := range v.Size {
				if d > 0 && n > budget/int64(d) {
					return nil, fmt.Errorf("tensor %q: size %v: the tensors hold more elements than a file of this size can", key, v.Size)
				}
				n *= int64(max(d, 0))
			}
			budget -= n
			var err error
			if t, err = convert(v); err != nil {
				return nil, fmt.Errorf("tensor %q: %v", key, err)
			}
			if t == nil {
				continue // an integer or bool tensor
			}
		case *types.Dict, *types.OrderedDict:
			return nil, fmt.Errorf("entry %q of %s is a nested dict: unexpected nesting, want a flat map of names to tensors%s", key, where, hint)
		default:
			return nil, fmt.Errorf("entry %q of %s is not a tensor but Python type %s%s", key, where, pyType(e.Value), hint)
		}
		if prev, dup := from[name]; dup {
			return nil, fmt.Errorf("entries %q and %q both name tensor %q once \"module.\" is stripped", prev, key, name)
		}
		from[name] = key
		sd[name] = t
	}
	if len(sd) == 0 {
		return nil, fmt.Errorf("%s holds no float tensors", where)
	}
	return sd, nil
}

// keyList lists the first few keys of a dict for error messages.
func keyList(entries []types.DictEntry) string {
	var ks []string
	for i, e := range entries {
		if i == 6 {
			ks = append(ks, fmt.Sprintf("... %d in all", len(entries)))
			break
		}
		ks = append(ks, fmt.Sprintf("%q", fmt.Sprint(e.Key)))
	}
	return strings.Join(ks, ", ")
}

// dictEntries lists a Python dict's or OrderedDict's entries in order.
func dictEntries(obj any) ([]types.DictEntry, bool) {
	switch d := obj.(type) {
	case *types.Dict:
		return *d, true
	case *types.OrderedDict:
		out := make([]types.DictEntry, 0, d.Len())
		for e := d.List.Front(); e != nil; e = e.Next() {
			entry := e.Value.(*types.OrderedDictEntry)
			out = append(out, types.DictEntry{Key: entry.Key, Value: entry.Value})
		}
		return out, true
	}
	return nil, false
}

func lookup(entries []types.DictEntry, key string) (any, bool) {
	for _, e := range entries {
		if k, ok := e.Key.(string); ok && k == key {
			return e.Value, true
		}
	}
	return nil, false
}

// pyType names the Python type of an unpickled value for error messages.
func pyType(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case string:
		return "str"
	case int, *big.Int:
		return "int"
	case float64:
		return "float"
	case bool:
		return "bool"
	case []byte:
		return "bytes"
	case *types.List:
		return "list"
	case *types.Tuple:
		return "tuple"
	case *types.Dict:
		return "dict"
	case *types.OrderedDict:
		return "OrderedDict"
	case *types.Set, *types.FrozenSet:
		return "set"
	case *pytorch.Tensor:
		return "tensor"
	case *opaqueObject:
		return v.class.Module + "." + v.class.Name + " object"
	case *opaqueClass:
		return "class " + v.Module + "." + v.Name
	}
	return fmt.Sprintf("%T", v)
}

// convert gathers a tensor's elements from its storage into a dense float32
// tensor. It returns nil for integer and bool tensors.
func convert(t *pytorch.Tensor) (*model.Tensor, error) {
	switch s := t.Source.(type) {
	case *pytorch.FloatStorage:
		return gather(s.Data, t)
	case *pytorch.DoubleStorage:
		return gather(s.Data, t)
	case *pytorch.HalfStorage:
		return gather(s.Data, t)
	case *pytorch.BFloat16Storage:
		return gather(s.Data, t)
	case *pytorch.LongStorage, *pytorch.IntStorage, *pytorch.ShortStorage,
		*pytorch.CharStorage, *pytorch.ByteStorage, *pytorch.BoolStorage:
		return nil, nil
	}
	return nil, fmt.Errorf("unsupported storage type %T", t.Source)
}

// gather copies the elements of the view (offset, size, stride) of src in
// row-major order, checking that the view lies inside src.
func gather[T float32 | float64](src []T, t *pytorch.Tensor) (*model.Tensor, error) {
	size, stride, off := t.Size, t.Stride, t.StorageOffset
	if len(size) != len(stride) {
		return nil, fmt.Errorf("%d sizes but %d strides", len(size), len(stride))
	}
	n, last := 1, off
	for i, d := range size {
		if d < 0 || stride[i] < 0 {
			return nil, fmt.Errorf("negative size or stride (size %v, stride %v)", size, stride)
		}
		if d == 0 {
			n = 0
			continue
		}
		if n > maxElements/d || stride[i] > math.MaxInt32 {
			return nil, fmt.Errorf("size %v, stride %v too large", size, stride)
		}
		n *= d
		last += (d - 1) * stride[i]
	}
	if off < 0 || (n > 0 && last >= len(src)) {
		return nil, fmt.Errorf("view (offset %d, size %v, stride %v) runs past its storage of %d elements", off, size, stride, len(src))
	}
	if n > len(src) && n > maxBroadcast {
		// Only zero strides (expanded tensors) reuse elements; bound what
		// they can make us allocate.
		return nil, fmt.Errorf("view of %d elements repeats its %d-element storage: too large", n, len(src))
	}
	out := &model.Tensor{Shape: append([]int{}, size...), Data: make([]float32, n)}
	if n == 0 {
		return out, nil
	}
	if contiguous(size, stride) {
		for i, v := range src[off : off+n] {
			out.Data[i] = float32(v)
		}
		return out, nil
	}
	// Walk the index vector like an odometer, keeping the storage position.
	idx := make([]int, len(size))
	pos := off
	for i := range out.Data {
		out.Data[i] = float32(src[pos])
		for d := len(size) - 1; d >= 0; d-- {
			idx[d]++
			pos += stride[d]
			if idx[d] < size[d] {
				break
			}
			pos -= idx[d] * stride[d]
			idx[d] = 0
		}
	}
	return out, nil
}

// contiguous reports whether strides are those of a dense row-major array
// (dimensions of size 1 may have any stride).
func contiguous(size, stride []int) bool {
	want := 1
	for d := len(size) - 1; d >= 0; d-- {
		if size[d] != 1 && stride[d] != want {
			return false
		}
		want *= size[d]
	}
	return true
}
