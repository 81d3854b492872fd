// Command build compiles wasm/simd/c/kernel.c into wasm/simd/kernel.wasm with
// Debian's clang and lld (`make simd`): built with clangFlags, stripped of
// lld's unused stack-pointer global and checked by simd.Validate.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/bagnetweb/bagnet/wasm/simd"
	"github.com/bagnetweb/bagnet/wasm/simd/internal/wasmbin"
)

func main() {
	clang := flag.String("clang", "clang", "the clang to run (needs lld's wasm-ld)")
	src := flag.String("src", "wasm/simd/c/kernel.c", "the kernel source")
	out := flag.String("o", "wasm/simd/kernel.wasm", "the module to write")
	flag.Parse()
	b, err := build(*clang, *src)
	if err == nil {
		err = os.WriteFile(*out, b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "build:", err)
		os.Exit(1)
	}
	fmt.Printf("%s: %d bytes\n", *out, len(b))
}

// clangFlags build kernel.c into a module that imports its memory, has no
// entry point and no stack. One definition: `make simd` and the rebuild test
// both go through build.
func clangFlags() []string {
	return []string{"--target=wasm32", "-O3", "-msimd128", "-nostdlib", "-ffreestanding",
		"-Wl,--no-entry", "-Wl,--import-memory", "-Wl,--strip-all", "-Wl,-z,stack-size=0"}
}

// build compiles the C source src with clang and returns the module bytes,
// stripped of lld's unused stack-pointer global and checked by
// simd.Validate. lld always defines that global, even when nothing uses it
// (no stack: every function keeps its state in locals); a module whose code
// did refer to it would fail validation once it is gone, so the browser's
// WebAssembly.validate and the tests' instantiation prove nothing uses it.
func build(clang, src string) ([]byte, error) {
	dir, err := os.MkdirTemp("", "simd")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "kernel.wasm")
	cmd := exec.Command(clang, append(clangFlags(), "-o", out, src)...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("simd: %s: %v\n%s", clang, err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	if b, err = wasmbin.StripGlobals(b); err != nil {
		return nil, err
	}
	return b, simd.Validate(b)
}
