// Package safetensors reads and writes the safetensors format: an 8-byte
// little-endian header length, a JSON header mapping tensor names to dtype,
// shape and data offsets (plus an optional "__metadata__" string map), then
// the raw little-endian tensor data.
//
// Parse validates everything it is given (header size, JSON, dtypes, shapes,
// offsets in range, no overlaps) and returns errors that name the offending
// tensor or field; it never panics on malformed input.
package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"

	"github.com/bagnetweb/bagnet/internal/kinderr"
)

// MaxHeader caps the JSON header size accepted by Parse.
const MaxHeader = 16 << 20

// Errors from Parse and Read wrap one of these; test with errors.Is.
var (
	// ErrCorrupt: the header is not a valid safetensors header (a file of
	// another kind, or damaged).
	ErrCorrupt = errors.New("corrupt safetensors header")
	// ErrTruncated: the file ends before the data its header declares.
	ErrTruncated = errors.New("truncated safetensors file")
	// ErrTooLarge: Read was given a file over its size limit.
	ErrTooLarge = errors.New("safetensors file too large")
)

// errorf is an error of kind with the message fmt.Sprintf(format, a...).
func errorf(kind error, format string, a ...any) error {
	return &kinderr.Error{Kind: kind, Msg: fmt.Sprintf(format, a...)}
}

// DTypeSize gives the byte size of each supported dtype.
var DTypeSize = map[string]int{
	"F64": 8, "F32": 4, "F16": 2, "BF16": 2,
	"I64": 8, "I32": 4, "I16": 2, "I8": 1,
	"U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1,
}

// Tensor describes one tensor of a file.
type Tensor struct {
	Name  string
	DType string
	Shape []int
	Data  []byte // little-endian raw values (a view into the parsed buffer)

	offset int64 // where Data starts in the file's data section (Parse only)
}

// Len is the number of elements (the product of the shape).
func (t *Tensor) Len() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// File is a parsed safetensors file.
type File struct {
	Metadata map[string]string
	Tensors  []*Tensor // in data order
	byName   map[string]*Tensor
}

type headerEntry struct {
	DType       string  `json:"dtype"`
	Shape       []int64 `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// Parse reads a whole safetensors file held in memory. The returned tensors'
// Data slices alias b.
func Parse(b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, errorf(ErrTruncated, "safetensors: file is %d bytes, too short for the 8-byte header length", len(b))
	}
	n := binary.LittleEndian.Uint64(b[:8])
	if n > MaxHeader {
		return nil, errorf(ErrCorrupt, "safetensors: header length %d exceeds the %d-byte limit (not a safetensors file?)", n, MaxHeader)
	}
	if n > uint64(len(b)-8) {
		return nil, errorf(ErrTruncated, "safetensors: header length %d runs past the end of the %d-byte file (truncated?)", n, len(b))
	}
	hdr := b[8 : 8+n]
	data := b[8+n:]
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(hdr))
	if err := dec.Decode(&raw); err != nil {
		return nil, errorf(ErrCorrupt, "safetensors: header is not a JSON object: %v", err)
	}
	f := &File{Metadata: map[string]string{}, byName: map[string]*Tensor{}}
	type span struct {
		begin, end int64
		name       string
	}
	var spans []span
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &f.Metadata); err != nil {
				return nil, errorf(ErrCorrupt, "safetensors: __metadata__ is not a map of strings: %v", err)
			}
			continue
		}
		var e headerEntry
		d := json.NewDecoder(bytes.NewReader(msg))
		d.DisallowUnknownFields()
		if err := d.Decode(&e); err != nil {
			return nil, errorf(ErrCorrupt, "safetensors: tensor %q: bad header entry: %v", name, err)
		}
		size, ok := DTypeSize[e.DType]
		if !ok {
			return nil, errorf(ErrCorrupt, "safetensors: tensor %q: unknown dtype %q", name, e.DType)
		}
		if len(e.DataOffsets) != 2 {
			return nil, errorf(ErrCorrupt, "safetensors: tensor %q: data_offsets has %d entries, want 2", name, len(e.DataOffsets))
		}
		if len(e.Shape) > 8 {
			return nil, errorf(ErrCorrupt, "safetensors: tensor %q: %d dimensions is too many", name, len(e.Shape))
		}
		count := int64(1)
		shape := make([]int, len(e.Shape))
		for i, s := range e.Shape {
			if s < 0 || s > math.MaxInt32 {
				return nil, errorf(ErrCorrupt, "safetensors: tensor %q: dimension %d is %d", name, i, s)
			}
			shape[i] = int(s)
			if s != 0 && count > math.MaxInt64/8/s {
				return nil, errorf(ErrCorrupt, "safetensors: tensor %q: shape %v is too large", name, e.Shape)
			}
			count *= s
		}
		begin, end := e.DataOffsets[0], e.DataOffsets[1]
		if begin < 0 || end < begin || end > int64(len(data)) {
			return nil, errorf(ErrTruncated, "safetensors: tensor %q: data_offsets [%d, %d] outside the %d data bytes (truncated?)", name, begin, end, len(data))
		}
		if end-begin != count*int64(size) {
			return nil, errorf(ErrCorrupt, "safetensors: tensor %q: %d data bytes but %s shape %v needs %d", name, end-begin, e.DType, e.Shape, count*int64(size))
		}
		t := &Tensor{Name: name, DType: e.DType, Shape: shape, Data: data[begin:end:end], offset: begin}
		f.byName[name] = t
		f.Tensors = append(f.Tensors, t)
		spans = append(spans, span{begin, end, name})
	}
	if dec.More() {
		return nil, errorf(ErrCorrupt, "safetensors: trailing data after the JSON header")
	}
	sort.Slice(spans, func(i, j int) bool {
		if spans[i].begin != spans[j].begin {
			return spans[i].begin < spans[j].begin
		}
		return spans[i].name < spans[j].name
	})
	for i := 1; i < len(spans); i++ {
		if spans[i].begin < spans[i-1].end {
			return nil, errorf(ErrCorrupt, "safetensors: tensors %q and %q overlap", spans[i-1].name, spans[i].name)
		}
	}
	sort.Slice(f.Tensors, func(i, j int) bool {
		if f.Tensors[i].offset != f.Tensors[j].offset {
			return f.Tensors[i].offset < f.Tensors[j].offset
		}
		return f.Tensors[i].Name < f.Tensors[j].Name
	})
	return f, nil
}

// Read reads one safetensors file from r, at most limit bytes, and returns
// its bytes for Parse. size is r's length when known (a regular file's),
// else -1. Read takes the 8-byte header length and the header first, then
// exactly the tensor data the header declares, so a stream that is not a
// safetensors file (/dev/zero, a huge file of something else) costs a few
// bytes, and one whose header declares more than limit bytes, or more than
// size, is refused before its data is read. Memory stays bounded by limit,
// and for a stream of unknown size by twice what it actually holds. Bytes
// after the declared data are not read. Errors wrap ErrCorrupt,
// ErrTruncated or ErrTooLarge, or are r's own.
func Read(r io.Reader, size, limit int64) ([]byte, error) {
	var head [8]byte
	if k, err := io.ReadFull(r, head[:]); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, errorf(ErrTruncated, "safetensors: file is %d bytes, too short for the 8-byte header length", k)
		}
		return nil, err
	}
	n := binary.LittleEndian.Uint64(head[:])
	if n > MaxHeader {
		return nil, errorf(ErrCorrupt, "safetensors: header length %d exceeds the %d-byte limit (not a safetensors file?)", n, MaxHeader)
	}
	hlen := 8 + int64(n)
	if hlen > limit {
		return nil, errorf(ErrTooLarge, "safetensors: the %d-byte header alone is over the %d-byte limit", n, limit)
	}
	if size >= 0 && hlen > size {
		return nil, errorf(ErrTruncated, "safetensors: header length %d runs past the end of the %d-byte file (truncated?)", n, size)
	}
	buf := bytes.NewBuffer(make([]byte, 0, hlen))
	buf.Write(head[:])
	if k, err := io.CopyN(buf, r, int64(n)); err != nil {
		if err == io.EOF {
			return nil, errorf(ErrTruncated, "safetensors: header length %d runs past the end of the %d-byte file (truncated?)", n, 8+k)
		}
		return nil, err
	}
	data := dataSize(buf.Bytes()[8:])
	if data > limit-hlen {
		return nil, errorf(ErrTooLarge, "safetensors: the header declares %d bytes of tensor data, more than the %d-byte limit on the file allows", data, limit)
	}
	if size >= 0 {
		if data > size-hlen {
			return nil, errorf(ErrTruncated, "safetensors: the header declares %d bytes of tensor data, the file holds %d (truncated?)", data, size-hlen)
		}
		buf.Grow(int(data)) // the file holds it all: one allocation
	}
	if k, err := io.CopyN(buf, r, data); err != nil {
		if err == io.EOF {
			return nil, errorf(ErrTruncated, "safetensors: the header declares %d bytes of tensor data, the file holds %d (truncated?)", data, k)
		}
		return nil, err
	}
	return buf.Bytes(), nil
}

// dataSize is the end of the last tensor's data that a header declares,
// from its well-formed entries (Parse reports the others), capped at
// math.MaxInt64/2.
func dataSize(hdr []byte) int64 {
	var raw map[string]json.RawMessage
	if json.Unmarshal(hdr, &raw) != nil {
		return 0
	}
	var end int64
	for name, msg := range raw {
		var e headerEntry
		if name == "__metadata__" || json.Unmarshal(msg, &e) != nil || len(e.DataOffsets) != 2 {
			continue
		}
		end = max(end, min(e.DataOffsets[1], math.MaxInt64/2))
	}
	return end
}

// Tensor returns the named tensor or an error naming it.
func (f *File) Tensor(name string) (*Tensor, error) {
	t, ok := f.byName[name]
	if !ok {
		return nil, fmt.Errorf("safetensors: no tensor %q", name)
	}
	return t, nil
}

// Has reports whether the file holds the named tensor.
func (f *File) Has(name string) bool { _, ok := f.byName[name]; return ok }

func (f *File) typed(name, dtype string, shape []int) (*Tensor, error) {
	t, err := f.Tensor(name)
	if err != nil {
		return nil, err
	}
	if t.DType != dtype {
		return nil, fmt.Errorf("safetensors: tensor %q is %s, want %s", name, t.DType, dtype)
	}
	if shape != nil && !slices.Equal(t.Shape, shape) {
		return nil, fmt.Errorf("safetensors: tensor %q has shape %v, want %v", name, t.Shape, shape)
	}
	return t, nil
}

// F32 decodes a float32 tensor. A non-nil shape must match exactly.
func (f *File) F32(name string, shape []int) ([]float32, error) {
	t, err := f.typed(name, "F32", shape)
	if err != nil {
		return nil, err
	}
	out := make([]float32, t.Len())
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
	}
	return out, nil
}

// I8 decodes an int8 tensor. A non-nil shape must match exactly.
func (f *File) I8(name string, shape []int) ([]int8, error) {
	t, err := f.typed(name, "I8", shape)
	if err != nil {
		return nil, err
	}
	out := make([]int8, len(t.Data))
	for i, v := range t.Data {
		out[i] = int8(v)
	}
	return out, nil
}

// U8 returns a uint8 tensor's data. A non-nil shape must match exactly.
func (f *File) U8(name string, shape []int) ([]uint8, error) {
	t, err := f.typed(name, "U8", shape)
	if err != nil {
		return nil, err
	}
	return append([]uint8(nil), t.Data...), nil
}

// Write serialises tensors (in the given order) and metadata.
func Write(w io.Writer, metadata map[string]string, tensors []*Tensor) error {
	hdr := map[string]any{}
	if len(metadata) > 0 {
		hdr["__metadata__"] = metadata
	}
	var off int64
	for _, t := range tensors {
		size, ok := DTypeSize[t.DType]
		if !ok {
			return fmt.Errorf("safetensors: tensor %q: unknown dtype %q", t.Name, t.DType)
		}
		if int64(len(t.Data)) != int64(t.Len())*int64(size) {
			return fmt.Errorf("safetensors: tensor %q: %d bytes for %s shape %v", t.Name, len(t.Data), t.DType, t.Shape)
		}
		if _, dup := hdr[t.Name]; dup {
			return fmt.Errorf("safetensors: tensor %q written twice", t.Name)
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		hdr[t.Name] = map[string]any{"dtype": t.DType, "shape": shape, "data_offsets": []int64{off, off + int64(len(t.Data))}}
		off += int64(len(t.Data))
	}
	js, err := json.Marshal(hdr)
	if err != nil {
		return err
	}
	for len(js)%8 != 0 { // align the data start, as the reference writer does
		js = append(js, ' ')
	}
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(js)))
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	if _, err := w.Write(js); err != nil {
		return err
	}
	for _, t := range tensors {
		if _, err := w.Write(t.Data); err != nil {
			return err
		}
	}
	return nil
}

// F32Tensor builds an F32 tensor from values.
func F32Tensor(name string, shape []int, v []float32) *Tensor {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return &Tensor{Name: name, DType: "F32", Shape: shape, Data: b}
}

// I8Tensor builds an I8 tensor from values.
func I8Tensor(name string, shape []int, v []int8) *Tensor {
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return &Tensor{Name: name, DType: "I8", Shape: shape, Data: b}
}

// U8Tensor builds a U8 tensor from values.
func U8Tensor(name string, shape []int, v []uint8) *Tensor {
	return &Tensor{Name: name, DType: "U8", Shape: shape, Data: append([]byte(nil), v...)}
}
