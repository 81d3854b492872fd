package weights_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/bagnetweb/bagnet/internal/testfixture"
	"github.com/bagnetweb/bagnet/internal/testmodel"
	"github.com/bagnetweb/bagnet/weights"
	"github.com/bagnetweb/bagnet/weights/safetensors"
)

// identityPrior is a valid prior over c features: no correlations.
func identityPrior(c int) []int8 {
	p := make([]int8, weights.PriorLen(c))
	for r := 0; r < c; r++ {
		p[r*(r+1)/2+r] = weights.PriorOne
	}
	return p
}

// A prior is written as its own tensor, read back as written, and survives
// re-encoding; a file without one loads without one.
func TestPriorRoundTrip(t *testing.T) {
	b := testfixture.Must(testmodel.Int8(testmodel.Options{InputSize: 40}))(t)
	m := testfixture.Must(weights.Load(b))(t)
	if m.Prior != nil {
		t.Fatalf("a file without a prior loaded with %d entries", len(m.Prior))
	}
	c := m.Config.Features()
	m.Prior = identityPrior(c)
	m.Prior[1] = -100 // (1,0)
	m.Prior[len(m.Prior)-2] = 42
	b2 := testfixture.Must(weights.Encode(m))(t)
	if len(b2) <= len(b)+weights.PriorLen(c)-1 {
		t.Fatalf("file with prior is %d bytes, without %d: want %d more", len(b2), len(b), weights.PriorLen(c))
	}
	m2 := testfixture.Must(weights.Load(b2))(t)
	if !bytes.Equal(i8bytes(m2.Prior), i8bytes(m.Prior)) {
		t.Fatal("the prior read back differs from the one written")
	}
	if b3 := testfixture.Must(weights.Encode(m2))(t); !bytes.Equal(b2, b3) {
		t.Fatal("re-encoding a file with a prior gives other bytes")
	}
}

func i8bytes(v []int8) []byte {
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return b
}

// A damaged or foreign prior tensor is refused with an error naming it.
func TestPriorLoadErrors(t *testing.T) {
	b := testfixture.Must(testmodel.Int8(testmodel.Options{InputSize: 40}))(t)
	m := testfixture.Must(weights.Load(b))(t)
	c := m.Config.Features()
	m.Prior = identityPrior(c)
	good := testfixture.Must(weights.Encode(m))(t)
	edit := func(f func(v []byte) []byte) func(map[string]string, []*safetensors.Tensor) []*safetensors.Tensor {
		return func(_ map[string]string, ts []*safetensors.Tensor) []*safetensors.Tensor {
			for i, x := range ts {
				if x.Name == weights.PriorName {
					v := f(append([]byte(nil), x.Data...))
					ts[i] = safetensors.I8Tensor(x.Name, []int{len(v)}, int8s(v))
				}
			}
			return ts
		}
	}
	for _, tc := range []struct {
		name    string
		data    []byte
		want    string
		corrupt bool
	}{
		{"diagonal not 1", testfixture.Rewrite(t, good, edit(func(v []byte) []byte { v[2] = 100; return v })), "diagonal entry 1 is 100", true},
		{"below -1", testfixture.Rewrite(t, good, edit(func(v []byte) []byte { v[1] = 0x80; return v })), "entry (1,0) is -128", true},
		{"too short", testfixture.Rewrite(t, good, edit(func(v []byte) []byte { return v[:len(v)-1] })), weights.PriorName, false},
		{"float", testfixture.Rewrite(t, good, func(_ map[string]string, ts []*safetensors.Tensor) []*safetensors.Tensor {
			for i, x := range ts {
				if x.Name == weights.PriorName {
					ts[i] = safetensors.F32Tensor(x.Name, []int{weights.PriorLen(c)}, make([]float32, weights.PriorLen(c)))
				}
			}
			return ts
		}), "is F32, want I8", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := weights.Load(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if tc.corrupt && !errors.Is(err, weights.ErrCorrupt) {
				t.Fatalf("error %v is not ErrCorrupt", err)
			}
		})
	}
	m.Prior = m.Prior[1:]
	if _, err := weights.Encode(m); err == nil || !strings.Contains(err.Error(), "entries") {
		t.Fatalf("Encode with a short prior: %v", err)
	}
}

func int8s(b []byte) []int8 {
	v := make([]int8, len(b))
	for i, x := range b {
		v[i] = int8(x)
	}
	return v
}
