package main

import (
	"bytes"
	"os"
	"os/exec"
	"testing"

	"github.com/bagnetweb/bagnet/wasm/simd"
)

// The committed kernel.wasm must be what `make simd` builds from c/kernel.c.
func TestModuleRebuilds(t *testing.T) {
	clang, err := exec.LookPath("clang")
	if err == nil {
		_, err = exec.LookPath("wasm-ld")
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI must install clang and lld to check kernel.wasm")
		}
		t.Skip("clang or lld (wasm-ld) not installed: apt-get install clang lld")
	}
	b, err := build(clang, "../c/kernel.c")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, simd.Module) {
		t.Fatalf("kernel.wasm (%d bytes) differs from a fresh build of c/kernel.c (%d bytes): run make simd and commit it", len(simd.Module), len(b))
	}
}
