package testfixture

import (
	"bytes"
	"testing"

	"github.com/bagnetweb/bagnet/weights/safetensors"
)

// An Edit changes a model file's metadata in place and returns its tensor
// list, changed (Rewrite).
type Edit func(md map[string]string, ts []*safetensors.Tensor) []*safetensors.Tensor

// Rewrite parses the safetensors file b, lets edit change a copy of its
// metadata and tensor list, and re-serialises it, failing the test if b
// does not parse or the result cannot be written.
func Rewrite(t testing.TB, b []byte, edit Edit) []byte {
	t.Helper()
	f, err := safetensors.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	md := map[string]string{}
	for k, v := range f.Metadata {
		md[k] = v
	}
	ts := edit(md, append([]*safetensors.Tensor(nil), f.Tensors...))
	var buf bytes.Buffer
	if err := safetensors.Write(&buf, md, ts); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Fill is an Edit that sets every value of the named float32 tensor to v.
func Fill(name string, v float32) Edit {
	return func(_ map[string]string, ts []*safetensors.Tensor) []*safetensors.Tensor {
		for i, x := range ts {
			if x.Name == name {
				vals := make([]float32, x.Len())
				for j := range vals {
					vals[j] = v
				}
				ts[i] = safetensors.F32Tensor(x.Name, x.Shape, vals)
			}
		}
		return ts
	}
}
