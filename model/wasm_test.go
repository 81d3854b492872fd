package model

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"testing"
)

// int8Digest runs the int8 engine on random models of every architecture and
// hashes the exact bits of the logits and evidence maps.
func int8Digest(t *testing.T) string {
	h := sha256.New()
	for i, arch := range []string{"bagnet9", "bagnet17", "bagnet33"} {
		cfg := Config{Arch: arch, Width: 0.125, Classes: 10}
		n, err := NewNet(cfg, RandomStateDict(cfg, uint64(10+i)))
		if err != nil {
			t.Fatal(err)
		}
		const size = 56
		var cal Calibrator
		n.Observe = cal.Observer()
		for s := uint64(0); s < 2; s++ {
			if _, _, err := n.Forward(NormalizedInput(randomRGB(size, size, s), size, size, mean, std)); err != nil {
				t.Fatal(err)
			}
		}
		q, err := Quantize(n, mean, std, cal.Scales())
		if err != nil {
			t.Fatal(err)
		}
		f, err := q.Features(randomRGB(size, size, 42), size, size)
		if err != nil {
			t.Fatal(err)
		}
		put := func(v []float32) {
			for _, x := range v {
				binary.Write(h, binary.LittleEndian, math.Float32bits(x))
			}
		}
		put(q.Logits(f))
		for c := 0; c < cfg.Classes; c++ {
			put(q.Evidence(f, c))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
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
