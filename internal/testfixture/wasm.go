package testfixture

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"testing"
)

// RunInWasm builds the tests of the package in the working directory for
// js/wasm, runs the test named run under Node with Go's go_js_wasm_exec, and
// returns the submatches of pattern in its output: how a test checks that
// js/wasm (what the page runs) computes the same bytes as native code. It
// skips on the wasm side itself, under -short and without node.
func RunInWasm(t *testing.T, run, pattern string) []string {
	t.Helper()
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
	cmd := exec.Command("go", "test", "-count=1", "-run", "^"+run+"$", "-v", "-exec", execWasm, ".")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("wasm test run failed: %v\n%s", err, out)
	}
	m := regexp.MustCompile(pattern).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("no match for %q in the wasm output:\n%s", pattern, out)
	}
	return m
}
