package simd

import (
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/bagnetweb/bagnet/model/kernel"
	"github.com/bagnetweb/bagnet/model/modeltest"
)

func TestModuleIsClean(t *testing.T) {
	if err := Validate(Module); err != nil {
		t.Fatalf("kernel.wasm: %v", err)
	}
	if len(Module) > 16<<10 {
		t.Errorf("kernel.wasm is %d bytes: expected a few KB", len(Module))
	}
}

func TestValidateRefuses(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":     nil,
		"not wasm":  []byte("hello, world"),
		"truncated": Module[:len(Module)/2],
		// The module with a data section (id 11) appended.
		"data segment": append(append([]byte{}, Module...), 11, 1, 0),
		"globals":      append(append([]byte{}, Module...), 6, 1, 0),
	} {
		if err := Validate(b); err == nil {
			t.Errorf("%s: Validate accepted it", name)
		}
	}
}

// TestSIMDInNode builds this package's tests for js/wasm and runs them under
// Node with the kernel module loaded (testdata/go_js_wasm_exec): the SIMD
// GEMM must equal the reference, and the int8 engine on it must give the
// native digest bit for bit.
func TestSIMDInNode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a wasm test binary")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not installed: cannot run js/wasm tests")
	}
	wd, _ := os.Getwd()
	cmd := exec.Command("go", "test", "-count=1", "-v", "-run", "^(TestSIMDMatchesReference|TestSIMDNetworkDigest)$",
		"-exec", wd+"/testdata/go_js_wasm_exec", ".")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm", "BAGNET_GOROOT="+runtime.GOROOT())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("wasm test run failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "simd: kernels checked against the reference") {
		t.Fatalf("the SIMD kernel check did not run:\n%s", out)
	}
	m := regexp.MustCompile(`simd digest: ([0-9a-f]{64})`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no digest in the wasm output:\n%s", out)
	}
	native, err := modeltest.Digest(kernel.Fast{})
	if err != nil {
		t.Fatal(err)
	}
	if string(m[1]) != native {
		t.Fatalf("int8 on SIMD differs: native %s, SIMD %s", native, m[1])
	}
	t.Logf("SIMD in js/wasm and native agree: %s", native)
}
