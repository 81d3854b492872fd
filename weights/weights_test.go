package weights_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/bagnetweb/bagnet/internal/testfixture"
	"github.com/bagnetweb/bagnet/internal/testmodel"
	"github.com/bagnetweb/bagnet/model"
	"github.com/bagnetweb/bagnet/weights"
	"github.com/bagnetweb/bagnet/weights/safetensors"
)

func randomImage(n int, seed byte) []uint8 {
	b := make([]uint8, n*n*3)
	for i := range b {
		b[i] = uint8(i*31+int(seed)*7) ^ uint8(i>>5)
	}
	return b
}

func TestInt8RoundTrip(t *testing.T) {
	for _, arch := range []string{"bagnet9", "bagnet17", "bagnet33"} {
		opt := testmodel.Options{Arch: arch, InputSize: 48, Seed: 3}
		b := testfixture.Must(testmodel.Int8(opt))(t)
		m := testfixture.Must(weights.Load(b))(t)
		if m.Int8 == nil || m.Float != nil || m.DType != weights.Int8 {
			t.Fatalf("%s: loaded %+v", arch, m.Meta)
		}
		want := testmodel.Meta(opt)
		if m.Config != want.Config || m.InputSize != 48 || m.Resize != "squash" || m.Mean != want.Mean || m.Std != want.Std {
			t.Errorf("%s: meta %+v, want %+v", arch, m.Meta, want)
		}
		if len(m.Classes) != 10 || m.Classes[0] != (weights.Class{ID: "n01440764", Name: "tench"}) {
			t.Errorf("%s: classes %v", arch, m.Classes)
		}
		// Re-encoding the loaded network gives the same bytes.
		b2, err := weights.Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, b2) {
			t.Errorf("%s: re-encoded file differs", arch)
		}
		if _, err := m.Int8.Features(randomImage(48, 1), 48, 48); err != nil {
			t.Errorf("%s: %v", arch, err)
		}
	}
}

func TestFloatRoundTrip(t *testing.T) {
	n, meta, sd, err := testmodel.Float(testmodel.Options{Arch: "bagnet17", InputSize: 40})
	if err != nil {
		t.Fatal(err)
	}
	m := testfixture.Must(weights.Load(testfixture.Must(weights.EncodeStateDict(meta, sd))(t)))(t)
	if m.Float == nil || m.DType != weights.Float32 {
		t.Fatalf("loaded %+v", m.Meta)
	}
	x := model.NormalizedInput(randomImage(40, 2), 40, 40, meta.Mean, meta.Std)
	l1, _, err := n.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	l2, _, err := m.Float.Forward(x)
	if err != nil {
		t.Fatal(err)
	}
	for i := range l1 {
		if math.Float32bits(l1[i]) != math.Float32bits(l2[i]) {
			t.Fatalf("logit %d: %v after round trip, %v before", i, l2[i], l1[i])
		}
	}
}

func TestLoadErrors(t *testing.T) {
	good, err := testmodel.Int8(testmodel.Options{InputSize: 40})
	if err != nil {
		t.Fatal(err)
	}
	drop := func(name string) func(map[string]string, []*safetensors.Tensor) []*safetensors.Tensor {
		return func(_ map[string]string, ts []*safetensors.Tensor) []*safetensors.Tensor {
			var r []*safetensors.Tensor
			for _, x := range ts {
				if x.Name != name {
					r = append(r, x)
				}
			}
			return r
		}
	}
	setMeta := func(k, v string) func(map[string]string, []*safetensors.Tensor) []*safetensors.Tensor {
		return func(md map[string]string, ts []*safetensors.Tensor) []*safetensors.Tensor {
			if v == "" {
				delete(md, k)
			} else {
				md[k] = v
			}
			return ts
		}
	}
	hugeHeader := make([]byte, 16)
	binary.LittleEndian.PutUint64(hugeHeader, 1<<40)
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not a BagNet model file: the file is empty"},
		{"huge header", hugeHeader, "exceeds"},
		{"truncated", good[:len(good)/2], "truncated"},
		{"header only", good[:100], "truncated"},
		{"not json", append([]byte{4, 0, 0, 0, 0, 0, 0, 0}, "abcd"...), "not a JSON object"},
		{"foreign safetensors", testfixture.Rewrite(t, good, setMeta("format", "")), "not a BagNet model file"},
		{"future version", testfixture.Rewrite(t, good, setMeta("version", "9")), "version"},
		{"bad arch", testfixture.Rewrite(t, good, setMeta("arch", "resnet50")), "unknown architecture"},
		{"bad width", testfixture.Rewrite(t, good, setMeta("width", "0.5")), "stem.weight"},
		{"bad classes json", testfixture.Rewrite(t, good, setMeta("classes", "[{")), "classes"},
		{"class count", testfixture.Rewrite(t, good, setMeta("classes", `[{"id":"a","name":"b"}]`)), "fc.weight"},
		{"bad size", testfixture.Rewrite(t, good, setMeta("input_size", "7")), "input_size"},
		{"bad resize", testfixture.Rewrite(t, good, setMeta("resize", "stretch")), "resize"},
		{"bad std", testfixture.Rewrite(t, good, setMeta("std", "[0,1,1]")), "std"},
		{"missing act scale", testfixture.Rewrite(t, good, drop("act.layer3.1.conv2")), "act.layer3.1.conv2"},
		{"zero act scale", testfixture.Rewrite(t, good, func(_ map[string]string, ts []*safetensors.Tensor) []*safetensors.Tensor {
			for i, x := range ts {
				if x.Name == "act.layer1.0" {
					ts[i] = safetensors.F32Tensor(x.Name, x.Shape, make([]float32, x.Len()))
				}
			}
			return ts
		}), `tensor "act.layer1.0" holds 0 at element 0 (scales must be positive)`},
		{"missing tensor", testfixture.Rewrite(t, good, drop("layer2.0.downsample.weight")), "layer2.0.downsample.weight"},
		{"extra tensor", testfixture.Rewrite(t, good, func(_ map[string]string, ts []*safetensors.Tensor) []*safetensors.Tensor {
			return append(ts, safetensors.F32Tensor("extra", []int{1}, []float32{1}))
		}), "holds"},
		{"wrong dtype", testfixture.Rewrite(t, good, func(_ map[string]string, ts []*safetensors.Tensor) []*safetensors.Tensor {
			for i, x := range ts {
				if x.Name == "fc.weight" {
					ts[i] = &safetensors.Tensor{Name: x.Name, DType: "U8", Shape: x.Shape, Data: x.Data}
				}
			}
			return ts
		}), "fc.weight\" is U8"},
		{"nan scale", testfixture.Rewrite(t, good, func(_ map[string]string, ts []*safetensors.Tensor) []*safetensors.Tensor {
			for i, x := range ts {
				if x.Name == "layer1.0.conv1.scale" {
					v := make([]float32, x.Len())
					for j := range v {
						v[j] = float32(math.NaN())
					}
					ts[i] = safetensors.F32Tensor(x.Name, x.Shape, v)
				}
			}
			return ts
		}), "layer1.0"},
	} {
		_, err := weights.Load(tc.data)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
}

// FuzzLoad: no input may make Load panic.
// FuzzLoad explores the model loader. Its seeds are small, so that the
// fuzzer runs thousands of inputs a second instead of minimising a big
// file: the smallest model (width 1/64, 2 classes: 25 kB, most of it the
// 17 kB header), that model's header alone (the tensor data cut off),
// files of one tensor, and a header without tensors. (The container format
// alone is fuzzed by safetensors.FuzzParse.)
func FuzzLoad(f *testing.F) {
	good, err := testmodel.Int8(testmodel.Options{InputSize: 36, Width: 1.0 / 64, Classes: 2})
	if err != nil {
		f.Fatal(err)
	}
	hdr := 8 + int(binary.LittleEndian.Uint64(good))
	f.Add(good)
	f.Add(good[:hdr])
	f.Add(good[:hdr+100])
	f.Add(good[:64])
	f.Add([]byte{})
	md := map[string]string{"format": "bagnet", "version": weights.FormatVersion, "dtype": "int8", "arch": "bagnet9",
		"width": "0.015625", "classes": `[{"id":"n0","name":"a"}]`, "input_size": "36", "resize": "squash"}
	for _, ts := range [][]*safetensors.Tensor{nil, {safetensors.I8Tensor("stem.weight", []int{1, 3, 3, 3}, make([]int8, 27))}} {
		var b bytes.Buffer
		if err := safetensors.Write(&b, md, ts); err != nil {
			f.Fatal(err)
		}
		f.Add(b.Bytes())
	}
	f.Add([]byte("\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":{\"dtype\":1}}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := weights.Load(b)
		if err == nil && m.Int8 == nil && m.Float == nil {
			t.Fatal("nil error but no network")
		}
	})
}

// The shipped model file, written by an earlier version, re-encodes to the
// same bytes: the layout table keeps the file format as it was.
func TestShippedModelReencodes(t *testing.T) {
	b, err := os.ReadFile("shipped/bagnet33_imagenette_int8.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	m, err := weights.Load(b)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := weights.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, b2) {
		t.Fatalf("re-encoding the shipped model gives other bytes (%d vs %d)", len(b2), len(b))
	}
}
