// Package simd is the WebAssembly SIMD128 int8 GEMM behind kernel.Kernels.
//
// The kernel is C (c/kernel.c, wasm_simd128.h) compiled by clang into a tiny
// separate module, kernel.wasm (committed, so building the site needs no
// clang). The host page instantiates it on Go's own linear memory (it imports
// env.memory) and hands it to Go as the global bagnetSIMD; Go then calls it
// with the addresses of its slices. Go cannot emit SIMD itself. The module
// owns nothing in Go's memory: no data segments, no globals, no stack
// (Validate checks the bytes), and it only runs deterministic instructions,
// so it gives exactly the pure-Go kernels' results.
//
// This file (the module's bytes, its check and the weight layout) builds on
// every platform; the kernels themselves only under js/wasm. The clang
// driver that builds the module is the command wasm/simd/build, so nothing
// that runs the kernels links a toolchain driver.
package simd

import (
	_ "embed"
	"errors"
	"fmt"

	"github.com/bagnetweb/bagnet/wasm/simd/internal/wasmbin"
)

// Module is kernel.wasm, the built kernel module.
//
//go:embed kernel.wasm
var Module []byte

// Validate checks what the module may hold: its one import is env.memory,
// it has no data segments, no globals and no start function, and it exports
// the functions the kernels call (gemm_u8i8, requant).
func Validate(b []byte) error {
	ss, err := wasmbin.Sections(b)
	if err != nil {
		return err
	}
	exports := map[string]byte{}
	for _, s := range ss {
		switch s.ID {
		case wasmbin.SecData, wasmbin.SecDataCount:
			return errors.New("simd: the module has data segments: it would write into Go's memory")
		case wasmbin.SecGlobal:
			return errors.New("simd: the module has globals (a shadow stack in Go's memory?)")
		case wasmbin.SecStart:
			return errors.New("simd: the module has a start function")
		case wasmbin.SecImport:
			n, w, err := wasmbin.ULEB(s.Body)
			if err != nil || n != 1 {
				return fmt.Errorf("simd: the module has %d imports, want only env.memory", n)
			}
			mod, rest, err := wasmbin.Name(s.Body[w:])
			if err != nil {
				return err
			}
			field, rest, err := wasmbin.Name(rest)
			if err != nil || mod != "env" || field != "memory" || len(rest) == 0 || rest[0] != 2 {
				return fmt.Errorf("simd: the module imports %s.%s, want only the memory env.memory", mod, field)
			}
		case wasmbin.SecExport:
			n, w, err := wasmbin.ULEB(s.Body)
			if err != nil {
				return err
			}
			rest := s.Body[w:]
			for i := 0; i < int(n); i++ {
				var nm string
				if nm, rest, err = wasmbin.Name(rest); err != nil || len(rest) < 2 {
					return errors.New("simd: bad export section")
				}
				exports[nm] = rest[0]
				_, w, err := wasmbin.ULEB(rest[1:])
				if err != nil {
					return err
				}
				rest = rest[1+w:]
			}
		}
	}
	for _, e := range [...]string{"gemm_u8i8", "requant"} {
		if kind, ok := exports[e]; !ok || kind != 0 {
			return fmt.Errorf("simd: the module does not export the function %s", e)
		}
	}
	return nil
}

// PanelN and PanelK are the kernel's weight tile: panels of PanelN output
// channels, blocks of PanelK columns.
const PanelN, PanelK = 4, 8

// Pack lays out the n x k row-major int8 weights b as kernel.c's gemm_u8i8
// reads them: panels of 4 output channels; in each, for every block of 8
// columns (k zero-padded to a multiple of 8), the 8 bytes of each of the 4
// channels in turn. Channels past n are zero.
func Pack(n, k int, b []int8) []int8 {
	kp := (k + PanelK - 1) / PanelK * PanelK
	panels := (n + PanelN - 1) / PanelN
	out := make([]int8, panels*PanelN*kp)
	for j := 0; j < n; j++ {
		p, lane := j/PanelN, j%PanelN
		for c := 0; c < k; c++ {
			blk := c / PanelK
			out[p*PanelN*kp+blk*PanelN*PanelK+lane*PanelK+c%PanelK] = b[j*k+c]
		}
	}
	return out
}
