package model_test

import (
	"github.com/bagnetweb/bagnet/internal/testfixture"
	"testing"

	"github.com/bagnetweb/bagnet/model/kernel"
	"github.com/bagnetweb/bagnet/model/modeltest"
)

func int8Digest(t *testing.T) string {
	d, err := modeltest.Digest(kernel.Default())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestInt8Digest prints the digest; under js/wasm it is run by
// TestInt8BitIdenticalInWasm.
func TestInt8Digest(t *testing.T) {
	t.Logf("int8 digest: %s", int8Digest(t))
}

// The int8 engine must give bit-identical results natively and in js/wasm.
// This builds the package's tests for js/wasm and runs them under Node with
// Go's go_js_wasm_exec.
func TestInt8BitIdenticalInWasm(t *testing.T) {
	m := testfixture.RunInWasm(t, "TestInt8Digest", `int8 digest: ([0-9a-f]{64})`)
	native := int8Digest(t)
	if m[1] != native {
		t.Fatalf("int8 results differ: native %s, js/wasm %s", native, m[1])
	}
	t.Logf("native and js/wasm agree: %s", native)
}
