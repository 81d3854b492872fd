// Command build compiles wasm/simd/c/kernel.c into wasm/simd/kernel.wasm with
// Debian's clang and lld (`make simd`): simd.Build's flags, stripped and
// validated.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/bagnetweb/bagnet/wasm/simd"
)

func main() {
	clang := flag.String("clang", "clang", "the clang to run (needs lld's wasm-ld)")
	src := flag.String("src", "wasm/simd/c/kernel.c", "the kernel source")
	out := flag.String("o", "wasm/simd/kernel.wasm", "the module to write")
	flag.Parse()
	b, err := simd.Build(*clang, *src)
	if err == nil {
		err = os.WriteFile(*out, b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "build:", err)
		os.Exit(1)
	}
	fmt.Printf("%s: %d bytes\n", *out, len(b))
}
