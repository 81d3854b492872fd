package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strconv"
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
		// Read takes what Parse needs of every file Parse accepts, and
		// nothing beyond b.
		rb, rerr := Read(bytes.NewReader(b), int64(len(b)), int64(len(b)))
		if rb2, err2 := Read(struct{ io.Reader }{bytes.NewReader(b)}, -1, int64(len(b))); (err2 == nil) != (rerr == nil) || !bytes.Equal(rb, rb2) {
			t.Fatalf("Read with the size known: %d bytes, %v; unknown: %d bytes, %v", len(rb), rerr, len(rb2), err2)
		}
		if rerr == nil && !bytes.HasPrefix(b, rb) {
			t.Fatalf("Read returned %d bytes that are not a prefix of the %d-byte input", len(rb), len(b))
		}
		p, err := Parse(b)
		if err == nil {
			if rerr != nil {
				t.Fatalf("Parse accepts the file, Read says %v", rerr)
			}
			if _, err := Parse(rb); err != nil {
				t.Fatalf("Parse accepts the file but not the %d bytes Read took of it: %v", len(rb), err)
			}
		}
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

// zeros is an endless stream of zero bytes, like /dev/zero, that counts
// what is read from it.
type zeros struct{ n int64 }

func (z *zeros) Read(p []byte) (int, error) {
	clear(p)
	z.n += int64(len(p))
	return len(p), nil
}

// Read takes exactly the bytes a file's header declares, refuses a file
// over its limit before reading the data, and reads only a few bytes of a
// stream that is not a safetensors file, however long.
func TestRead(t *testing.T) {
	good := file(t, map[string]string{"format": "bagnet"},
		F32Tensor("a", []int{2, 3}, []float32{1, 2, 3, 4, 5, 6}),
		I8Tensor("b", []int{4}, []int8{-1, 0, 1, 127}))
	b, err := Read(io.MultiReader(bytes.NewReader(good), &zeros{}), -1, 1<<20)
	if err != nil || !bytes.Equal(b, good) {
		t.Fatalf("Read of a good file followed by zeros: %d bytes (want %d), %v", len(b), len(good), err)
	}
	if _, err := Parse(b); err != nil {
		t.Fatal(err)
	}
	huge := make([]byte, 8)
	binary.LittleEndian.PutUint64(huge, 1<<40)
	declares := func(end int64) []byte {
		hdr := []byte(`{"a":{"dtype":"U8","shape":[` + itoa(end) + `],"data_offsets":[0,` + itoa(end) + `]}}`)
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(hdr)))
		return append(n[:], hdr...)
	}
	for _, tc := range []struct {
		name    string
		r       io.Reader
		size    int64 // -1: unknown
		limit   int64
		kind    error
		want    string
		maxRead int64 // of the zeros
	}{
		{"empty", bytes.NewReader(nil), -1, 1 << 20, ErrTruncated, "file is 0 bytes", 0},
		{"/dev/zero", &zeros{}, -1, 1 << 30, nil, "", 8}, // an empty header: Parse's error
		{"huge header", io.MultiReader(bytes.NewReader(huge), &zeros{}), -1, 1 << 30, ErrCorrupt, "header length 1099511627776 exceeds", 0},
		{"over the limit", io.MultiReader(bytes.NewReader(declares(1<<40)), &zeros{}), -1, 1 << 20, ErrTooLarge, "declares 1099511627776 bytes of tensor data", 0},
		{"just over the limit", io.MultiReader(bytes.NewReader(declares(1000)), &zeros{}), -1, int64(len(declares(1000))) + 999, ErrTooLarge, "declares 1000 bytes", 0},
		{"truncated data", bytes.NewReader(declares(1000)), -1, 1 << 20, ErrTruncated, "the file holds 0", 0},
		{"truncated data, size known", bytes.NewReader(declares(1 << 29)), int64(len(declares(1 << 29))), 1 << 30, ErrTruncated, "declares 536870912 bytes of tensor data, the file holds 0", 0},
		{"truncated header", bytes.NewReader(good[:20]), -1, 1 << 20, ErrTruncated, "runs past the end of the 20-byte file", 0},
		{"truncated header, size known", bytes.NewReader(good[:20]), 20, 1 << 20, ErrTruncated, "runs past the end of the 20-byte file", 0},
	} {
		b, err := Read(tc.r, tc.size, tc.limit)
		if z, ok := tc.r.(*zeros); ok && z.n > tc.maxRead {
			t.Errorf("%s: read %d bytes, want at most %d", tc.name, z.n, tc.maxRead)
		}
		if tc.kind == nil {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			} else if _, err := Parse(b); !errors.Is(err, ErrCorrupt) {
				t.Errorf("%s: Parse of what Read took: %v, want ErrCorrupt", tc.name, err)
			}
			continue
		}
		if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %v mentioning %q", tc.name, err, tc.kind, tc.want)
		}
	}
	// Exactly at the limit is fine.
	if _, err := Read(bytes.NewReader(good), int64(len(good)), int64(len(good))); err != nil {
		t.Errorf("a file of exactly the limit: %v", err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
