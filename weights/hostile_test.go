package weights_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bagnetweb/bagnet/internal/testfixture"
	"github.com/bagnetweb/bagnet/internal/testmodel"
	"github.com/bagnetweb/bagnet/weights"
	"github.com/bagnetweb/bagnet/weights/safetensors"
)

// setOne sets element i of the named float32 tensor to v.
func setOne(name string, i int, v float32) func(map[string]string, []*safetensors.Tensor) []*safetensors.Tensor {
	return func(_ map[string]string, ts []*safetensors.Tensor) []*safetensors.Tensor {
		for k, x := range ts {
			if x.Name == name {
				data := bytes.Clone(x.Data)
				binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(v))
				ts[k] = &safetensors.Tensor{Name: x.Name, DType: x.DType, Shape: x.Shape, Data: data}
			}
		}
		return ts
	}
}

func setMetaField(k, v string) func(map[string]string, []*safetensors.Tensor) []*safetensors.Tensor {
	return func(md map[string]string, ts []*safetensors.Tensor) []*safetensors.Tensor {
		md[k] = v
		return ts
	}
}

// Hostile model files: every tensor's values are checked at load, and the
// input size is bounded, each with an error naming the tensor or field.
func TestLoadHostileValues(t *testing.T) {
	good, err := testmodel.Int8(testmodel.Options{InputSize: 40})
	if err != nil {
		t.Fatal(err)
	}
	_, meta, sd, err := testmodel.Float(testmodel.Options{InputSize: 40})
	if err != nil {
		t.Fatal(err)
	}
	goodFloat, err := weights.EncodeStateDict(meta, sd)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := weights.Load(goodFloat); err != nil {
		t.Fatal(err)
	}
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, tc := range []struct {
		name string
		data []byte
		kind error
		want string
	}{
		{"NaN head scale", testfixture.Rewrite(t, good, testfixture.Fill("fc.scale", nan)), weights.ErrCorrupt, `tensor "fc.scale" holds NaN at element 0 (values must be finite)`},
		{"zero head scale", testfixture.Rewrite(t, good, testfixture.Fill("fc.scale", 0)), weights.ErrCorrupt, `tensor "fc.scale" holds 0 at element 0 (scales must be positive)`},
		{"negative head scale", testfixture.Rewrite(t, good, testfixture.Fill("fc.scale", -1)), weights.ErrCorrupt, `tensor "fc.scale" holds -1`},
		{"+Inf head bias", testfixture.Rewrite(t, good, testfixture.Fill("fc.bias", inf)), weights.ErrCorrupt, `tensor "fc.bias" holds +Inf at element 0 (values must be finite)`},
		{"one NaN head bias", testfixture.Rewrite(t, good, setOne("fc.bias", 7, nan)), weights.ErrCorrupt, `tensor "fc.bias" holds NaN at element 7 (values must be finite)`},
		{"one negative activation scale", testfixture.Rewrite(t, good, setOne("act.layer4.2", 100, -0.5)), weights.ErrCorrupt, `tensor "act.layer4.2" holds -0.5 at element 100 (scales must be positive)`},
		{"-Inf conv bias", testfixture.Rewrite(t, good, testfixture.Fill("layer2.0.conv2.bias", float32(math.Inf(-1)))), weights.ErrCorrupt, `tensor "layer2.0.conv2.bias" holds -Inf`},
		{"Inf requant scale", testfixture.Rewrite(t, good, testfixture.Fill("layer3.0.downsample.scale", inf)), weights.ErrCorrupt, `tensor "layer3.0.downsample.scale" holds +Inf`},
		{"NaN activation scale", testfixture.Rewrite(t, good, testfixture.Fill("act.stem", nan)), weights.ErrCorrupt, `tensor "act.stem" holds NaN`},
		{"huge head scale", testfixture.Rewrite(t, good, testfixture.Fill("fc.scale", 1e35)), weights.ErrCorrupt, "corrupt BagNet model file: int8 fc.scale of class 0 is 1e+35: evidence could reach"},
		{"huge head bias", testfixture.Rewrite(t, good, testfixture.Fill("fc.bias", 3e38)), weights.ErrCorrupt, "int8 fc.bias of class 0 is 3e+38, beyond"},
		{"NaN float weight", testfixture.Rewrite(t, goodFloat, testfixture.Fill("layer1.0.conv2.weight", nan)), weights.ErrCorrupt, `tensor "layer1.0.conv2.weight" holds NaN`},
		{"Inf float fc", testfixture.Rewrite(t, goodFloat, testfixture.Fill("fc.bias", inf)), weights.ErrCorrupt, `tensor "fc.bias" holds +Inf`},
		{"negative running_var", testfixture.Rewrite(t, goodFloat, testfixture.Fill("bn1.running_var", -1)), weights.ErrCorrupt, `tensor "bn1.running_var" holds -1 at element 0 (variances must not be negative)`},
		{"input size 1024", testfixture.Rewrite(t, good, setMetaField("input_size", "1024")), weights.ErrTooLarge, "the model asks for 1024x1024 px input images, over the 448 px limit"},
		{"input size 4096", testfixture.Rewrite(t, good, setMetaField("input_size", "4096")), weights.ErrTooLarge, "over the 448 px limit"},
		{"input size 4097", testfixture.Rewrite(t, good, setMetaField("input_size", "4097")), nil, `"input_size" is "4097", want an integer in [33, 4096]`},
		{"header length", append(binary.LittleEndian.AppendUint64(nil, 2338328219631577204), "{}"...), weights.ErrNotModel,
			"not a BagNet model file: its header is corrupt (safetensors: header length 2338328219631577204 exceeds the 16777216-byte limit)"},
		{"a JPEG", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"), weights.ErrNotModel, "not a BagNet model file: its header is corrupt"},
		{"7 bytes", []byte("garbage"), weights.ErrNotModel, "not a BagNet model file: it is too short (safetensors: file is 7 bytes, too short for the 8-byte header length)"},
		{"text", []byte("These are notes, not a model file.\n"), weights.ErrNotModel, "not a BagNet model file: its header is corrupt"},
		{"truncated", good[:len(good)*2/3], weights.ErrNotModel, "not a whole model file: it is truncated"},
		{"foreign safetensors", testfixture.Rewrite(t, good, func(md map[string]string, ts []*safetensors.Tensor) []*safetensors.Tensor {
			delete(md, "format")
			return ts
		}), weights.ErrNotModel, "not a BagNet model file: a safetensors file without the BagNet metadata"},
	} {
		_, err := weights.Load(tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.kind != nil && !errors.Is(err, tc.kind)) {
			t.Errorf("%s: error %v, want %v mentioning %q", tc.name, err, tc.kind, tc.want)
		} else {
			t.Logf("%s: %v", tc.name, err)
		}
	}
	// A caller may allow a larger input size explicitly.
	big := testfixture.Rewrite(t, good, setMetaField("input_size", "1024"))
	if m, err := (weights.Options{MaxInputSize: 1024}).Load(big); err != nil || m.InputSize != 1024 {
		t.Errorf("Options{MaxInputSize: 1024}: %v", err)
	}
	if _, err := (weights.Options{MaxInputSize: 1000}).Load(big); err == nil || !strings.Contains(err.Error(), "over the 1000 px limit") {
		t.Errorf("Options{MaxInputSize: 1000}: %v", err)
	}
	if _, err := weights.Load(testfixture.Rewrite(t, good, setMetaField("input_size", strconv.Itoa(weights.MaxInputSize)))); err != nil {
		t.Errorf("input size %d: %v", weights.MaxInputSize, err)
	}
}

// Model files too big to read, or endless: a named error at once, with a
// few bytes allocated, whatever the file's size.
func TestReadFileHostile(t *testing.T) {
	dir := t.TempDir()
	good, err := testmodel.Int8(testmodel.Options{InputSize: 40})
	if err != nil {
		t.Fatal(err)
	}
	file := func(name string, b []byte, size int64) string {
		return testfixture.WriteFile(t, dir, name, b, size)
	}
	// A good header declaring 400 MiB of data: refused by size (the cap on a
	// file is checked before reading), read up to the end if under it.
	hdr := func(data int64) []byte {
		js := `{"__metadata__":{"format":"bagnet"},"a":{"dtype":"U8","shape":[` + strconv.FormatInt(data, 10) + `],"data_offsets":[0,` + strconv.FormatInt(data, 10) + `]}}`
		return append(binary.LittleEndian.AppendUint64(nil, uint64(len(js))), js...)
	}
	cases := []struct {
		name, path string
		kind       error
		want       string
		maxAlloc   uint64
	}{
		{"100 GB sparse file", file("sparse.safetensors", nil, 100<<30), weights.ErrTooLarge,
			"the model file is too large: it is 107 GB (107374182400 bytes), and files over 512 MiB are not read", 1 << 20},
		{"100 GB sparse file with a model's header", file("sparse-model.safetensors", good[:4096], 100<<30), weights.ErrTooLarge, "it is 107 GB (107374182400 bytes)", 1 << 20},
		{"header declaring 1 TB in a small file", file("declares.safetensors", hdr(1<<40), 0), weights.ErrTooLarge,
			"the header declares 1099511627776 bytes of tensor data", 1 << 20},
		{"header declaring 400 MB in a small file", file("truncated.safetensors", hdr(400<<20), 0), weights.ErrNotModel,
			"it is truncated, it ends before the data its header lists (safetensors: the header declares 419430400 bytes of tensor data, the file holds 0)", 1 << 20},
		{"/dev/zero", "/dev/zero", weights.ErrNotModel, "/dev/zero: not a BagNet model file: its header is corrupt (safetensors: header is not a JSON object: EOF)", 1 << 20},
		{"/dev/urandom", "/dev/urandom", weights.ErrNotModel, "not a BagNet model file: its header is corrupt", 17 << 20},
		{"a directory", dir, nil, "is a directory, not a model file", 1 << 20},
		{"missing", filepath.Join(dir, "nope"), nil, "no such file", 1 << 20},
	}
	for _, tc := range cases {
		if _, err := os.Stat(tc.path); tc.name != "missing" && err != nil {
			t.Logf("%s: skipped: %v", tc.name, err)
			continue
		}
		var err error
		d, alloc := testfixture.Measure(func() { _, err = weights.LoadFile(tc.path) })
		if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.kind != nil && !errors.Is(err, tc.kind)) {
			t.Errorf("%s: error %v, want %v mentioning %q", tc.name, err, tc.kind, tc.want)
			continue
		}
		if alloc > tc.maxAlloc {
			t.Errorf("%s: allocated %d bytes, want at most %d", tc.name, alloc, tc.maxAlloc)
		}
		if d > 5*time.Second {
			t.Errorf("%s: took %v", tc.name, d)
		}
		t.Logf("%s: %v, %.1f kB allocated: %v", tc.name, d.Round(time.Microsecond), float64(alloc)/1e3, err)
	}
	// The shipped model reads the same through ReadFile.
	p := "shipped/bagnet33_imagenette_int8.safetensors"
	b, err := weights.ReadFile(p)
	want, _ := os.ReadFile(p)
	if err != nil || string(b) != string(want) {
		t.Fatalf("ReadFile of the shipped model: %d bytes (want %d), %v", len(b), len(want), err)
	}
}
