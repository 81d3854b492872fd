package safetensors

import (
	"bytes"
	"strings"
	"testing"
)

func file(t testing.TB, md map[string]string, ts ...*Tensor) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, md, ts); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Write and Parse agree, and Parse refuses what is not a whole file.
func TestRoundTrip(t *testing.T) {
	b := file(t, map[string]string{"format": "bagnet"},
		F32Tensor("a", []int{2, 3}, []float32{1, 2, 3, 4, 5, 6}),
		I8Tensor("b", []int{4}, []int8{-1, 0, 1, 127}))
	f, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	a, err := f.F32("a", []int{2, 3})
	if err != nil || a[5] != 6 {
		t.Fatalf("a = %v, %v", a, err)
	}
	i8, err := f.I8("b", []int{4})
	if err != nil || i8[0] != -1 || i8[3] != 127 {
		t.Fatalf("b = %v, %v", i8, err)
	}
	if _, err := f.F32("a", []int{3, 2}); err == nil {
		t.Error("a shape mismatch gave no error")
	}
	if _, err := f.F32("b", []int{4}); err == nil {
		t.Error("a dtype mismatch gave no error")
	}
	for n := 0; n < len(b); n += 7 {
		if _, err := Parse(b[:n]); err == nil {
			t.Errorf("the first %d of %d bytes parse", n, len(b))
		}
	}
}

// FuzzParse explores the container format alone, from small seeds (a few
// hundred bytes), so it runs thousands of inputs a second.
func FuzzParse(f *testing.F) {
	f.Add(file(f, nil, F32Tensor("a", []int{2}, []float32{1, 2})))
	f.Add(file(f, map[string]string{"k": "v"}, I8Tensor("w", []int{2, 2}, []int8{1, 2, 3, 4}), F32Tensor("s", []int{1}, []float32{0.5})))
	f.Add([]byte("\x02\x00\x00\x00\x00\x00\x00\x00{}"))
	f.Add([]byte("\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":{\"dtype\":1}}"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("a multi-line error: %q", err)
			}
			return
		}
		// Every tensor Parse accepts can be read at its own shape.
		for _, tn := range p.Tensors {
			name := tn.Name
			if got, err := p.Tensor(name); err != nil || got != tn {
				t.Fatalf("listed tensor %q: %v", name, err)
			}
			if len(tn.Data) != tn.Len()*DTypeSize[tn.DType] {
				t.Fatalf("tensor %q: %d data bytes for %s %v", name, len(tn.Data), tn.DType, tn.Shape)
			}
			var rerr error
			switch tn.DType {
			case "F32":
				_, rerr = p.F32(name, tn.Shape)
			case "I8":
				_, rerr = p.I8(name, tn.Shape)
			case "U8":
				_, rerr = p.U8(name, tn.Shape)
			default:
				continue
			}
			if rerr != nil {
				t.Fatalf("tensor %q (%s %v) parsed but does not read: %v", name, tn.DType, tn.Shape, rerr)
			}
		}
	})
}
