//go:build !js

package pth

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bagnetweb/bagnet/internal/testfixture"
	"github.com/bagnetweb/bagnet/model"
	"github.com/bagnetweb/bagnet/weights/safetensors"
	"github.com/nlpodyssey/gopickle/pytorch"
)

// The fixtures are written by weights/train/make_fixtures.py.
const fixtures = "../../testdata/fixtures"

func fixture(name string) string { return filepath.Join(fixtures, name) }

// stateFixture reads <arch>_state.safetensors, the contiguous float32 state
// dict that PyTorch itself wrote next to the checkpoints.
func stateFixture(t *testing.T, arch string) (*safetensors.File, map[string]string) {
	t.Helper()
	f := testfixture.ReadSafetensors(t, fixture(arch+"_state.safetensors"))
	return f, f.Metadata
}

func TestLoadMatchesPyTorch(t *testing.T) {
	for _, tt := range testfixture.Checkpoints() {
		t.Run(tt.File, func(t *testing.T) {
			sd, err := Load(fixture(tt.File))
			if err != nil {
				t.Fatal(err)
			}
			want, meta := stateFixture(t, tt.Arch)
			if len(sd) != len(want.Tensors) {
				t.Errorf("got %d tensors, want %d", len(sd), len(want.Tensors))
			}
			for _, w := range want.Tensors {
				got, ok := sd[w.Name]
				if !ok {
					t.Errorf("missing tensor %s", w.Name)
					continue
				}
				if !slices.Equal(got.Shape, w.Shape) {
					t.Errorf("%s: shape %v, want %v", w.Name, got.Shape, w.Shape)
					continue
				}
				vals, err := want.F32(w.Name, nil)
				if err != nil {
					t.Fatal(err)
				}
				for i := range vals {
					if math.Float32bits(got.Data[i]) != math.Float32bits(vals[i]) {
						t.Errorf("%s[%d] = %v, want %v", w.Name, i, got.Data[i], vals[i])
						break
					}
				}
			}
			for name := range sd {
				if strings.HasSuffix(name, "num_batches_tracked") || strings.HasPrefix(name, "module.") {
					t.Errorf("unexpected tensor %s", name)
				}
			}
			cfg, err := model.DetectConfig(sd)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Arch != meta["arch"] || cfg.Arch != tt.Arch || meta["width"] != "0.125" ||
				cfg.Width != 0.125 || meta["classes"] != "10" || cfg.Classes != 10 {
				t.Errorf("DetectConfig = %+v, fixture metadata %v", cfg, meta)
			}
		})
	}
}

// The fixtures must really hold views, or TestLoadMatchesPyTorch would not
// test the gathering.
func TestFixturesHoldViews(t *testing.T) {
	for _, file := range []string{"bagnet9.pth", "bagnet9_legacy.pth.tar"} {
		obj, err := unpickle(fixture(file))
		if err != nil {
			t.Fatal(err)
		}
		entries, _ := dictEntries(obj)
		get := func(name string) *pytorch.Tensor {
			v, _ := lookup(entries, name)
			return v.(*pytorch.Tensor)
		}
		w, b, c := get("fc.weight"), get("fc.bias"), get("layer1.0.conv2.weight")
		if contiguous(w.Size, w.Stride) || contiguous(c.Size, c.Stride) {
			t.Errorf("%s: fc.weight %v/%v and layer1.0.conv2.weight %v/%v should be non-contiguous views",
				file, w.Size, w.Stride, c.Size, c.Stride)
		}
		if b.StorageOffset == 0 || w.Source != b.Source {
			t.Errorf("%s: fc.bias should be an offset slice of fc.weight's storage (offset %d)", file, b.StorageOffset)
		}
	}
}

func TestGather(t *testing.T) {
	src := []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	tests := []struct {
		name         string
		off          int
		size, stride []int
		want         []float32
		err          string
	}{
		{"scalar", 5, nil, nil, []float32{5}, ""},
		{"contiguous", 2, []int{2, 3}, []int{3, 1}, []float32{2, 3, 4, 5, 6, 7}, ""},
		{"transpose", 0, []int{3, 2}, []int{1, 3}, []float32{0, 3, 1, 4, 2, 5}, ""},
		{"step", 1, []int{2, 2}, []int{6, 2}, []float32{1, 3, 7, 9}, ""},
		{"broadcast", 4, []int{2, 3}, []int{0, 1}, []float32{4, 5, 6, 4, 5, 6}, ""},
		{"unit dim any stride", 3, []int{1, 2}, []int{99, 1}, []float32{3, 4}, ""},
		{"empty", 50, []int{0, 4}, []int{4, 1}, []float32{}, ""},
		{"past end", 9, []int{2, 2}, []int{2, 1}, nil, "runs past"},
		{"negative offset", -1, []int{2}, []int{1}, nil, "runs past"},
		{"negative stride", 5, []int{2}, []int{-1}, nil, "negative"},
		{"rank mismatch", 0, []int{2, 2}, []int{1}, nil, "strides"},
		{"huge", 0, []int{1 << 20, 1 << 20}, []int{0, 0}, nil, "too large"},
		{"huge broadcast", 0, []int{1 << 13, 1 << 12}, []int{0, 0}, nil, "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := gather(src, &pytorch.Tensor{StorageOffset: tt.off, Size: tt.size, Stride: tt.stride})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Data, tt.want) || len(got.Shape) != len(tt.size) {
				t.Errorf("got %v shape %v, want %v", got.Data, got.Shape, tt.want)
			}
		})
	}
}

func TestDTypes(t *testing.T) {
	sd, err := Load(fixture("dtypes.pth"))
	if err != nil {
		t.Fatal(err)
	}
	// Each tensor must equal its float32 counterpart, converted by PyTorch.
	for name, ref := range map[string]string{"f64": "f32", "f16": "f32", "bf16": "bf16_f32", "f64_round": "f64_round_f32"} {
		got, want := sd[name], sd[ref]
		if got == nil || want == nil {
			t.Fatalf("missing %s or %s in %v", name, ref, keys(sd))
		}
		if !slices.Equal(got.Shape, want.Shape) {
			t.Fatalf("%s: shape %v, want %v", name, got.Shape, want.Shape)
		}
		for i := range want.Data {
			if math.Float32bits(got.Data[i]) != math.Float32bits(want.Data[i]) {
				t.Errorf("%s[%d] = %v, PyTorch gives %v", name, i, got.Data[i], want.Data[i])
			}
		}
	}
	if _, ok := sd["i64"]; ok {
		t.Error("the int64 tensor should be dropped")
	}
}

func TestParametersAndModelKey(t *testing.T) {
	tests := []struct {
		file string
		want map[string][]float32
	}{
		{"params.pth", map[string][]float32{"w": {0, 1, 2, 3, 4, 5}, "b": {0.5, -2}}},
		// {'model': {...}, 'optimizer': ..., 'args': argparse.Namespace, 'best': numpy float}
		{"modelkey.pth", map[string][]float32{"w": {0, 1, 2, 3, 4, 5}, "b": {0, 1, 2}}},
	}
	for _, tt := range tests {
		sd, err := Load(fixture(tt.file))
		if err != nil {
			t.Fatal(err)
		}
		if len(sd) != len(tt.want) {
			t.Errorf("%s: got tensors %v, want %d", tt.file, keys(sd), len(tt.want))
		}
		for name, want := range tt.want {
			if got := sd[name]; got == nil || !slices.Equal(got.Data, want) {
				t.Errorf("%s: %s = %v, want %v", tt.file, name, got, want)
			}
		}
	}
}

func keys(sd model.StateDict) []string {
	var ks []string
	for k := range sd {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// write puts b in a new file under dir and returns its path.
func write(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(fixture(name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		path func(t *testing.T) string
		want string
	}{
		{"missing file", func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope.pth") }, "no such file"},
		{"directory", func(t *testing.T) string { return t.TempDir() }, "is a directory"},
		{"empty file", func(t *testing.T) string { return write(t, "empty.pth", nil) }, "empty file"},
		{"random bytes", func(t *testing.T) string {
			b := make([]byte, 4096)
			rand.New(rand.NewSource(1)).Read(b)
			b[0] = 0x13
			return write(t, "random.pth", b)
		}, "not a PyTorch checkpoint"},
		{"text", func(t *testing.T) string { return write(t, "a.pth", []byte("hello")) }, "not a PyTorch checkpoint"},
		{"foreign pickle", func(t *testing.T) string { return fixture("foreign.pth") }, "not a PyTorch checkpoint: a plain Python pickle"},
		{"truncated zip", func(t *testing.T) string {
			b := readFixture(t, "bagnet9.pth")
			return write(t, "cut.pth", b[:len(b)/2])
		}, "corrupt zip checkpoint"},
		{"damaged zip record", func(t *testing.T) string {
			b := readFixture(t, "bagnet9.pth")
			b[len(b)/2] ^= 0x40
			return write(t, "flip.pth", b)
		}, "checksum error"},
		{"zip without data.pkl", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "other.zip")
			f, _ := os.Create(p)
			zw := zip.NewWriter(f)
			w, _ := zw.Create("archive/readme.txt")
			w.Write([]byte("hi"))
			zw.Close()
			f.Close()
			return p
		}, "without data.pkl"},
		{"zip missing a storage", func(t *testing.T) string {
			return rezip(t, "bagnet9.pth", func(name string) bool { return strings.HasSuffix(name, "/data/7") })
		}, "storage record bagnet9/data/7 is missing"},
		{"truncated legacy", func(t *testing.T) string {
			b := readFixture(t, "bagnet9_legacy.pth.tar")
			return write(t, "cut.pth.tar", b[:len(b)-100])
		}, "truncated legacy checkpoint"},
		{"legacy cut in the pickle", func(t *testing.T) string {
			b := readFixture(t, "bagnet9_legacy.pth.tar")
			return write(t, "cut.pth.tar", b[:2000])
		}, "corrupt legacy checkpoint"},
		{"legacy pickle claims a huge string", func(t *testing.T) string {
			return write(t, "huge.pth.tar", hugeLegacyString(t))
		}, "corrupt legacy checkpoint: the object pickle: pickle opcode 0x8d at byte"},
		{"legacy with trailing bytes", func(t *testing.T) string {
			b := readFixture(t, "bagnet9_legacy.pth.tar")
			return write(t, "long.pth.tar", append(b, 0, 0, 0, 0))
		}, "4 unexpected bytes after the last storage"},
		{"old tar format", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "old.pth.tar")
			f, _ := os.Create(p)
			tw := tar.NewWriter(f)
			tw.WriteHeader(&tar.Header{Name: "sys_info", Mode: 0o644, Size: 2})
			tw.Write([]byte("{}"))
			tw.Close()
			f.Close()
			return p
		}, "tar-format checkpoint"},
		{"list", func(t *testing.T) string { return fixture("list.pth") }, "holds a list, not a state dict"},
		{"non-tensor value", func(t *testing.T) string { return fixture("nontensor.pth") }, `entry "note" of the state dict is not a tensor but Python type str (checkpoint keys: "w", "note")`},
		{"nested dict", func(t *testing.T) string { return fixture("nested.pth") }, `entry "block" of the state dict is a nested dict: unexpected nesting`},
		{"empty state dict", func(t *testing.T) string { return fixture("empty.pth") }, "empty: no tensors"},
		{"pickled module", func(t *testing.T) string { return fixture("module.pth") }, "pickled Python object torch.nn.modules.linear.Linear"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.path(t)
			sd, err := Load(p)
			if err == nil {
				t.Fatalf("Load succeeded with %d tensors, want an error", len(sd))
			}
			t.Log(err)
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), p) {
				t.Errorf("error %q should name %s and say %q", err, p, tt.want)
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "x.pth")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v is not fs.ErrNotExist", err)
	}
}

// rezip copies a zip fixture without the records drop selects.
func rezip(t *testing.T, name string, drop func(string) bool) string {
	t.Helper()
	zr, err := zip.OpenReader(fixture(name))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	p := filepath.Join(t.TempDir(), name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, zf := range zr.File {
		if drop(zf.Name) {
			continue
		}
		if err := zw.Copy(zf); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

// A loaded state dict with a tensor removed or misshapen is rejected by
// model.DetectConfig with the tensor's name.
func TestDetectConfigNamesBadTensor(t *testing.T) {
	tests := []struct {
		name   string
		change func(model.StateDict)
		want   string
	}{
		{"missing", func(sd model.StateDict) { delete(sd, "layer2.1.bn2.running_var") }, "missing tensor layer2.1.bn2.running_var"},
		{"wrong shape", func(sd model.StateDict) {
			t := sd["layer3.0.downsample.1.weight"]
			t.Shape, t.Data = []int{len(t.Data) - 1}, t.Data[1:]
		}, "tensor layer3.0.downsample.1.weight has shape"},
		{"extra", func(sd model.StateDict) { sd["head.weight"] = &model.Tensor{Shape: []int{1}, Data: []float32{1}} }, "unexpected tensor head.weight"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sd, err := Load(fixture("bagnet17.pth"))
			if err != nil {
				t.Fatal(err)
			}
			tt.change(sd)
			if _, err := model.DetectConfig(sd); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("DetectConfig error = %v, want one saying %q", err, tt.want)
			}
		})
	}
}

func TestWalkPickle(t *testing.T) {
	frame := func(n uint64) []byte {
		b := []byte{0x80, 4, 0x95, 0, 0, 0, 0, 0, 0, 0, 0}
		binary.LittleEndian.PutUint64(b[3:], n)
		return b
	}
	tests := []struct {
		name  string
		data  []byte
		taken int64
		err   string
	}{
		{"list, then more data", []byte("\x80\x02]q\x00(K\x01K\x02K\x03e.trailing"), 14, ""},
		{"protocol 0 lines", []byte("(lp0\nI1\naS'a'\np1\na.rest"), 19, ""},
		{"global", []byte("\x80\x02ctorch\nFloatStorage\nq\x00.\x00"), 25, ""},
		{"frame", append(frame(3), 'N', '0', '.'), 14, ""},
		{"frame too long", append(frame(1<<40), 'N', '.'), 0, "runs past the end"},
		{"huge unicode8", []byte("\x80\x04\x8d\xff\xff\xff\xff\xff\x00\x00\x00abc."), 0, "ends early"},
		{"negative binstring", []byte("T\xff\xff\xff\xffabc."), 0, "ends early"},
		{"long4", []byte("\x8b\x02\x00\x00\x00\x01\x02."), 8, ""},
		{"no stop", []byte("\x80\x02]q\x00"), 0, "ends early"},
		{"line without newline", []byte("I12"), 0, "ends early"},
		{"unknown opcode", []byte("\x80\x02\xff."), 0, "invalid pickle opcode 0xff at byte 2"},
		{"empty", nil, 0, "ends early"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := walkPickle(bufio.NewReader(bytes.NewReader(tt.data)), int64(len(tt.data)))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one saying %q", err, tt.err)
				}
				return
			}
			if err != nil || n != tt.taken {
				t.Fatalf("walkPickle = %d, %v; want %d bytes", n, err, tt.taken)
			}
		})
	}
}

// FuzzLoad checks that Load never panics or returns inconsistent tensors.
// The seeds run with every go test; go test -fuzz=FuzzLoad explores more.
func FuzzLoad(f *testing.F) {
	for _, name := range []string{"foreign.pth", "nontensor.pth", "dtypes.pth", "params.pth", "modelkey.pth"} {
		b, err := os.ReadFile(fixture(name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(hugeLegacyString(f))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "f.pth")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		sd, err := Load(p)
		if err != nil {
			if !strings.Contains(err.Error(), p) {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		for name, tensor := range sd {
			n := 1
			for _, d := range tensor.Shape {
				n *= d
			}
			if n != len(tensor.Data) {
				t.Errorf("%s: shape %v but %d values", name, tensor.Shape, len(tensor.Data))
			}
		}
	})
}

// hugeLegacyString is the legacy bagnet9 fixture whose object pickle starts
// with a string claiming 2^40 bytes: unpickling it unchecked runs out of memory.
func hugeLegacyString(tb testing.TB) []byte {
	b, err := os.ReadFile(fixture("bagnet9_legacy.pth.tar"))
	if err != nil {
		tb.Fatal(err)
	}
	br := bufio.NewReader(bytes.NewReader(b))
	var end int64
	for range 3 { // magic number, protocol version, system info
		n, err := walkPickle(br, int64(len(b))-end)
		if err != nil {
			tb.Fatal(err)
		}
		end += n
	}
	// Keep the object pickle's PROTO opcode, then BINUNICODE8 of 2^40 bytes.
	return append(b[:end+2:end+2], 0x8d, 0, 0, 0, 0, 0, 1, 0, 0, 'x', '.')
}

func TestHubHash(t *testing.T) {
	for _, tt := range []struct{ name, want string }{
		{"bagnet32-2ddd53ed.pth.tar", "2ddd53ed"},
		{"/some/dir-0123abcd/bagnet8-34f4ccd2.pth.tar", "34f4ccd2"},
		{"resnet50-0676ba61.pth", "0676ba61"},
		{"resnet-50.pth", ""},
		{"model.pth", ""},
		{"bagnet32-2DDD53ED.pth.tar", ""}, // torch.hub's pattern is lower-case
		{"x-2ddd53ed", ""},                // no extension
	} {
		if got := HubHash(tt.name); got != tt.want {
			t.Errorf("HubHash(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
	sum := "2ddd53ed0123456789abcdef"
	if err := CheckHubHash("bagnet32-2ddd53ed.pth.tar", sum); err != nil {
		t.Error(err)
	}
	if err := CheckHubHash("model.pth", sum); err != nil {
		t.Error(err)
	}
	err := CheckHubHash("bagnet32-2ddd53ee.pth.tar", sum)
	if err == nil || !strings.Contains(err.Error(), "2ddd53ee") {
		t.Errorf("mismatch: %v", err)
	}
}
