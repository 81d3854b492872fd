package model_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
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
	if runtime.GOOS == "js" {
		t.Skip("this is the wasm side")
	}
	if testing.Short() {
		t.Skip("builds and runs a wasm test binary")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not installed: cannot run js/wasm tests")
	}
	goroot := runtime.GOROOT()
	execWasm := filepath.Join(goroot, "lib", "wasm", "go_js_wasm_exec")
	if _, err := os.Stat(execWasm); err != nil {
		execWasm = filepath.Join(goroot, "misc", "wasm", "go_js_wasm_exec")
	}
	cmd := exec.Command("go", "test", "-count=1", "-run", "^TestInt8Digest$", "-v", "-exec", execWasm, ".")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("wasm test run failed: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`int8 digest: ([0-9a-f]{64})`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no digest in wasm output:\n%s", out)
	}
	native := int8Digest(t)
	if string(m[1]) != native {
		t.Fatalf("int8 results differ: native %s, js/wasm %s", native, m[1])
	}
	t.Logf("native and js/wasm agree: %s", native)
}
