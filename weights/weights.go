// Package weights reads and writes BagNet model files: safetensors holding
// either the float32 PyTorch state dict or the int8 engine's tensors, with
// metadata describing the architecture, the classes and the preprocessing.
// Files load from a byte slice (the browser) or a path, and everything is
// validated: a truncated, corrupt or foreign file gives an error naming the
// tensor or field, never a panic.
package weights

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/bagnetweb/bagnet/internal/kinderr"
	"github.com/bagnetweb/bagnet/model"
	"github.com/bagnetweb/bagnet/protocol"
	"github.com/bagnetweb/bagnet/weights/safetensors"
)

// FormatVersion is written to every file; Load refuses other versions.
const FormatVersion = "1"

// Limits on model files. A model file can come from anyone (the page loads
// the one a user picks), so its size and its input size are bounded before
// anything is allocated or run for them.
const (
	// MaxFileSize caps the model files ReadFile, LoadFile and Load accept:
	// 512 MiB, about seven times the full-size 1000-class BagNet-33 in
	// float32 (73 MB; 18 MB in int8), room for a width-2 float32 model
	// (~290 MB). A file's size is checked before it is read, and only the
	// bytes its header declares are read at all.
	MaxFileSize = 512 << 20
	// MaxInputSize is the largest model input, in pixels per side, that a
	// file may ask for unless the caller allows more (Options): twice the
	// 224 px the authors trained the ImageNet BagNets at (the Imagenette
	// model is trained at 128). A BagNet sees patches of at most 33 px, so a
	// larger input only adds patches of ever smaller detail, while its cost
	// grows with the square of the size: the page warms a model up at its
	// input size the moment the file is picked, and a full-width BagNet-33
	// at 1024 px takes 253 MB and 14 s per image natively.
	MaxInputSize = 448
	// HardMaxInputSize is the largest input size Options may allow.
	HardMaxInputSize = 4096
)

// Errors from the loader wrap one of these; test with errors.Is.
var (
	// ErrNotModel: the file is not a BagNet model file at all (not a
	// safetensors file, damaged beyond reading, or one without BagNet
	// metadata).
	ErrNotModel = errors.New("not a BagNet model file")
	// ErrCorrupt: a BagNet model file whose values are unusable (NaN,
	// infinite or non-positive scales, non-finite weights).
	ErrCorrupt = errors.New("corrupt BagNet model file")
	// ErrTooLarge: the file, or the input size it asks for, is over a limit.
	ErrTooLarge = errors.New("model file over a limit")
)

// containerErr says in plain words what a safetensors error means for a
// model file, keeping the technical detail in parentheses.
func containerErr(err error) error {
	detail := strings.TrimSuffix(err.Error(), " (not a safetensors file?)")
	detail = strings.TrimSuffix(detail, " (truncated?)")
	switch {
	case strings.HasPrefix(detail, "safetensors: file is 0 bytes"):
		return &kinderr.Error{Kind: ErrNotModel, Cause: err, Msg: "not a BagNet model file: the file is empty"}
	case strings.Contains(detail, "too short for the 8-byte header length"):
		return &kinderr.Error{Kind: ErrNotModel, Cause: err, Msg: fmt.Sprintf("not a BagNet model file: it is too short (%s)", detail)}
	case errors.Is(err, safetensors.ErrTooLarge):
		return &kinderr.Error{Kind: ErrTooLarge, Cause: err,
			Msg: fmt.Sprintf("the model file is too large: files over %s are not read (%s)", mib(MaxFileSize), detail)}
	case errors.Is(err, safetensors.ErrTruncated):
		return &kinderr.Error{Kind: ErrNotModel, Cause: err,
			Msg: fmt.Sprintf("not a whole model file: it is truncated, it ends before the data its header lists (%s)", detail)}
	case errors.Is(err, safetensors.ErrCorrupt):
		return &kinderr.Error{Kind: ErrNotModel, Cause: err,
			Msg: fmt.Sprintf("not a BagNet model file: its header is corrupt (%s)", detail)}
	}
	return err
}

// sizeText says how big a file is, in bytes and, from 10 GB, in GB.
func sizeText(n int64) string {
	if n >= 10e9 {
		return fmt.Sprintf("%.0f GB (%d bytes)", float64(n)/1e9, n)
	}
	return fmt.Sprintf("%d bytes", n)
}

// mib formats a byte count in MiB.
func mib(n int64) string { return strconv.FormatInt(n>>20, 10) + " MiB" }

// Options are the limits of a load; the zero value is the default.
type Options struct {
	// MaxInputSize is the largest input size accepted, in
	// [0, HardMaxInputSize]; 0 means the default MaxInputSize. A caller
	// that allows more should say so to its user: a pass costs time and
	// memory in proportion to the size squared.
	MaxInputSize int
}

func (o Options) maxInputSize() int {
	if o.MaxInputSize <= 0 {
		return MaxInputSize
	}
	return min(o.MaxInputSize, HardMaxInputSize)
}

// DType of the weights.
const (
	Int8    = "int8"
	Float32 = "float32"
)

// Class is one output of the head: the wire type, defined in package
// protocol.
type Class = protocol.Class

// Meta describes a model file.
type Meta struct {
	Name      string            // display name, e.g. "BagNet-33 Imagenette"
	DType     string            // Int8 or Float32
	Config    model.Config      // arch, width, classes
	Classes   []Class           // len == Config.Classes
	InputSize int               // model input is InputSize x InputSize
	Resize    string            // "squash" or "crop" (see package preprocess)
	Mean, Std [3]float32        // input normalisation
	Info      map[string]string // free-form provenance (training recipe, accuracy)
}

// Model is a loaded file: exactly one of Float and Int8 is set.
type Model struct {
	Meta
	Float *model.Net
	Int8  *model.QNet
	// Prior, of an int8 model, is the within-class correlation of its
	// backbone's pooled features over a labelled image set (the lower
	// triangle, row by row, in units of 1/PriorOne; see CheckPrior), which
	// package teach uses to teach new classes from few images; nil: none.
	// It is the tensor PriorName; 'bagnet prior' makes it.
	Prior []int8
	Bytes int // file size
}

func (m *Meta) encode() (map[string]string, error) {
	classes, err := json.Marshal(m.Classes)
	if err != nil {
		return nil, err
	}
	md := map[string]string{
		"format":     "bagnet",
		"version":    FormatVersion,
		"name":       m.Name,
		"dtype":      m.DType,
		"arch":       m.Config.Arch,
		"width":      strconv.FormatFloat(m.Config.Width, 'g', -1, 64),
		"classes":    string(classes),
		"input_size": strconv.Itoa(m.InputSize),
		"resize":     m.Resize,
		"mean":       floats(m.Mean[:]),
		"std":        floats(m.Std[:]),
	}
	if m.Info != nil {
		s, err := json.Marshal(m.Info)
		if err != nil {
			return nil, err
		}
		md["info"] = string(s)
	}
	return md, nil
}

func floats(v []float32) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func decodeMeta(md map[string]string, opt Options) (Meta, error) {
	var m Meta
	field := func(k string) (string, error) {
		v, ok := md[k]
		if !ok {
			return "", fmt.Errorf("weights: metadata field %q missing", k)
		}
		return v, nil
	}
	if f, ok := md["format"]; !ok || f != "bagnet" {
		return m, &kinderr.Error{Kind: ErrNotModel,
			Msg: fmt.Sprintf("not a BagNet model file: a safetensors file without the BagNet metadata (metadata field \"format\" is %q, want \"bagnet\")", f)}
	}
	v, err := field("version")
	if err != nil {
		return m, err
	}
	if v != FormatVersion {
		return m, fmt.Errorf("weights: format version %q not supported (this build reads %q)", v, FormatVersion)
	}
	m.Name = md["name"]
	if m.DType, err = field("dtype"); err != nil {
		return m, err
	}
	if m.DType != Int8 && m.DType != Float32 {
		return m, fmt.Errorf("weights: metadata field \"dtype\" is %q, want int8 or float32", m.DType)
	}
	if m.Config.Arch, err = field("arch"); err != nil {
		return m, err
	}
	w, err := field("width")
	if err != nil {
		return m, err
	}
	if m.Config.Width, err = strconv.ParseFloat(w, 64); err != nil {
		return m, fmt.Errorf("weights: metadata field \"width\": %v", err)
	}
	c, err := field("classes")
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal([]byte(c), &m.Classes); err != nil {
		return m, fmt.Errorf("weights: metadata field \"classes\": %v", err)
	}
	m.Config.Classes = len(m.Classes)
	if err := m.Config.Validate(); err != nil {
		return m, fmt.Errorf("weights: metadata: %v", err)
	}
	s, err := field("input_size")
	if err != nil {
		return m, err
	}
	if m.InputSize, err = strconv.Atoi(s); err != nil || m.InputSize < m.Config.Patch() || m.InputSize > HardMaxInputSize {
		return m, fmt.Errorf("weights: metadata field \"input_size\" is %q, want an integer in [%d, %d]", s, m.Config.Patch(), HardMaxInputSize)
	}
	if limit := opt.maxInputSize(); m.InputSize > limit {
		return m, &kinderr.Error{Kind: ErrTooLarge, Msg: fmt.Sprintf(
			"the model asks for %dx%d px input images, over the %d px limit (BagNets are trained at 224 px or less, and a pass costs time and memory in proportion to the size squared; metadata field \"input_size\" is %q)",
			m.InputSize, m.InputSize, limit, s)}
	}
	if m.Resize, err = field("resize"); err != nil {
		return m, err
	}
	if m.Resize != "squash" && m.Resize != "crop" {
		return m, fmt.Errorf("weights: metadata field \"resize\" is %q, want squash or crop", m.Resize)
	}
	for _, f := range []struct {
		key string
		dst *[3]float32
	}{{"mean", &m.Mean}, {"std", &m.Std}} {
		v, err := field(f.key)
		if err != nil {
			return m, err
		}
		var a []float32
		if err := json.Unmarshal([]byte(v), &a); err != nil || len(a) != 3 {
			return m, fmt.Errorf("weights: metadata field %q is %q, want 3 numbers", f.key, v)
		}
		copy(f.dst[:], a)
	}
	for c := 0; c < 3; c++ {
		if !(m.Std[c] > 0) || math.IsInf(float64(m.Std[c]), 0) || math.IsNaN(float64(m.Mean[c])) {
			return m, fmt.Errorf("weights: metadata fields \"mean\"/\"std\" are not usable: %v / %v", m.Mean, m.Std)
		}
	}
	if v, ok := md["info"]; ok {
		if err := json.Unmarshal([]byte(v), &m.Info); err != nil {
			return m, fmt.Errorf("weights: metadata field \"info\": %v", err)
		}
	}
	return m, nil
}

// ReadFile reads a model file from disk, refusing one over MaxFileSize
// before reading it: its size is checked first, and then only the bytes
// its header declares are read (see safetensors.Read), so neither a huge
// sparse file nor /dev/zero costs more than a few bytes. Errors name the
// file and say what is wrong in plain words.
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("weights: %v", err)
	}
	defer f.Close()
	size := int64(-1) // unknown: a pipe, a device
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		if size = st.Size(); size > MaxFileSize {
			return nil, fmt.Errorf("%s: %w", path, &kinderr.Error{Kind: ErrTooLarge,
				Msg: fmt.Sprintf("the model file is too large: it is %s, and files over %s are not read", sizeText(size), mib(MaxFileSize))})
		}
	} else if err == nil && st.IsDir() {
		return nil, fmt.Errorf("%s: is a directory, not a model file", path)
	}
	b, err := safetensors.Read(f, size, MaxFileSize)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("weights: %v", err)
		}
		return nil, fmt.Errorf("%s: %w", path, containerErr(err))
	}
	return b, nil
}

// LoadFile reads a model file from disk with the default Options.
func LoadFile(path string) (*Model, error) { return Options{}.LoadFile(path) }

// LoadFile reads a model file from disk (see ReadFile).
func (o Options) LoadFile(path string) (*Model, error) {
	b, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := o.Load(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Load parses a model file held in memory with the default Options.
func Load(b []byte) (*Model, error) { return Options{}.Load(b) }

// Load parses a model file held in memory. Every tensor is checked: its
// shape against the architecture, and its values: no NaN or infinity
// anywhere, and every scale positive.
func (o Options) Load(b []byte) (*Model, error) {
	if int64(len(b)) > MaxFileSize {
		return nil, &kinderr.Error{Kind: ErrTooLarge,
			Msg: fmt.Sprintf("the model file is too large: it is %s, and files over %s are not read", sizeText(int64(len(b))), mib(MaxFileSize))}
	}
	f, err := safetensors.Parse(b)
	if err != nil {
		return nil, containerErr(err)
	}
	meta, err := decodeMeta(f.Metadata, o)
	if err != nil {
		return nil, err
	}
	if err := checkValues(f, meta.DType); err != nil {
		return nil, err
	}
	m := &Model{Meta: meta, Bytes: len(b)}
	if meta.DType == Float32 {
		sd := model.StateDict{}
		for _, p := range meta.Config.Params() {
			v, err := f.F32(p.Name, p.Shape)
			if err != nil {
				return nil, fmt.Errorf("weights: %s %v: %v", meta.Config.Arch, meta.Config.Width, err)
			}
			sd[p.Name] = &model.Tensor{Shape: p.Shape, Data: v}
		}
		if len(f.Tensors) != len(sd) {
			return nil, fmt.Errorf("weights: float32 file holds %d tensors, %s width %g has %d", len(f.Tensors), meta.Config.Arch, meta.Config.Width, len(sd))
		}
		if m.Float, err = model.NewNet(meta.Config, sd); err != nil {
			return nil, err
		}
		return m, nil
	}
	if m.Prior, err = readPrior(f, meta.Config.Features()); err != nil {
		return nil, err
	}
	q, err := readInt8(f, meta, m.Prior != nil)
	if err != nil {
		return nil, err
	}
	m.Int8 = q
	return m, nil
}

// checkValues checks the values of every float32 tensor of a file: all
// finite, and in an int8 file every scale (NAME.scale, act.NAME) positive;
// in a float32 file every BatchNorm running_var non-negative. The error
// names the tensor and the first bad element.
func checkValues(f *safetensors.File, dtype string) error {
	for _, t := range f.Tensors {
		if t.DType != "F32" {
			continue
		}
		scale := dtype == Int8 && (strings.HasSuffix(t.Name, ".scale") || strings.HasPrefix(t.Name, model.ActPrefix))
		variance := dtype == Float32 && strings.HasSuffix(t.Name, ".running_var")
		for i := 0; i+4 <= len(t.Data); i += 4 {
			x := math.Float32frombits(binary.LittleEndian.Uint32(t.Data[i:]))
			rule := ""
			switch d := float64(x); {
			case math.IsNaN(d) || math.IsInf(d, 0):
				rule = "values must be finite"
			case scale && !(x > 0):
				rule = "scales must be positive"
			case variance && x < 0:
				rule = "variances must not be negative"
			}
			if rule != "" {
				return &kinderr.Error{Kind: ErrCorrupt, Msg: fmt.Sprintf(
					"corrupt BagNet model file: tensor %q holds %v at element %d (%s)", t.Name, x, i/4, rule)}
			}
		}
	}
	return nil
}

// readInt8 reads an int8 model file's tensors: the list model.QNet.Tensors
// gives (names, shapes and order), and no other but the prior (when
// prior).
func readInt8(f *safetensors.File, meta Meta, prior bool) (*model.QNet, error) {
	cfg := meta.Config
	q := model.NewQNetShape(cfg)
	ts := q.Tensors()
	for _, t := range ts {
		var err error
		if t.I8 != nil {
			*t.I8, err = f.I8(t.Name, t.Shape)
		} else {
			*t.F32, err = f.F32(t.Name, t.Shape)
		}
		if err != nil {
			return nil, err
		}
	}
	if want := len(ts) + btoi(prior); len(f.Tensors) != want {
		return nil, fmt.Errorf("weights: int8 file holds %d tensors, %s width %g has %d", len(f.Tensors), cfg.Arch, cfg.Width, want)
	}
	if err := q.Prepare(); err != nil {
		return nil, &kinderr.Error{Kind: ErrCorrupt, Cause: err,
			Msg: "corrupt BagNet model file: " + strings.TrimPrefix(err.Error(), "model: ")}
	}
	return q, nil
}

// Encode serialises m (its Float or Int8 network) as a model file.
func Encode(m *Model) ([]byte, error) {
	if m.Prior != nil && m.Int8 == nil {
		return nil, fmt.Errorf("weights: a feature prior belongs to an int8 model")
	}
	meta := m.Meta
	if len(meta.Classes) != meta.Config.Classes {
		return nil, fmt.Errorf("weights: %d class names for %d classes", len(meta.Classes), meta.Config.Classes)
	}
	var ts []*safetensors.Tensor
	switch {
	case m.Int8 != nil:
		meta.DType = Int8
		for _, t := range m.Int8.Tensors() {
			if t.I8 != nil {
				ts = append(ts, safetensors.I8Tensor(t.Name, t.Shape, *t.I8))
			} else {
				ts = append(ts, safetensors.F32Tensor(t.Name, t.Shape, *t.F32))
			}
		}
		if m.Prior != nil {
			c := meta.Config.Features()
			if err := CheckPrior(m.Prior, c); err != nil {
				return nil, fmt.Errorf("weights: %v", err)
			}
			ts = append(ts, safetensors.I8Tensor(PriorName, []int{PriorLen(c)}, m.Prior))
		}
	case m.Float != nil:
		return nil, fmt.Errorf("weights: Encode of a float network: use EncodeStateDict")
	default:
		return nil, fmt.Errorf("weights: model has no network to encode")
	}
	return encode(meta, ts)
}

// EncodeStateDict writes a float32 model file from a PyTorch state dict.
func EncodeStateDict(meta Meta, sd model.StateDict) ([]byte, error) {
	meta.DType = Float32
	if err := meta.Config.CheckStateDict(sd); err != nil {
		return nil, err
	}
	var ts []*safetensors.Tensor
	for _, p := range meta.Config.Params() {
		ts = append(ts, safetensors.F32Tensor(p.Name, p.Shape, sd[p.Name].Data))
	}
	return encode(meta, ts)
}

func encode(meta Meta, ts []*safetensors.Tensor) ([]byte, error) {
	md, err := meta.encode()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, md, ts); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
