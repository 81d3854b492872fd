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
// This file (the module's bytes, its checks and the weight layout) builds on
// every platform; the kernels themselves only under js/wasm.
package simd

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Module is kernel.wasm, the built kernel module.
//
//go:embed kernel.wasm
var Module []byte

// Exports are the functions the module must export.
var Exports = []string{"gemm_u8i8", "requant"}

// ClangFlags build kernel.c into a module that imports its memory, has no
// entry point and no stack. One definition: `make simd` and the rebuild test
// both go through Build.
var ClangFlags = []string{"--target=wasm32", "-O3", "-msimd128", "-nostdlib", "-ffreestanding",
	"-Wl,--no-entry", "-Wl,--import-memory", "-Wl,--strip-all", "-Wl,-z,stack-size=0"}

// Build compiles the C source src with clang and returns the module bytes,
// stripped of lld's unused stack-pointer global and checked by Validate.
func Build(clang, src string) ([]byte, error) {
	dir, err := os.MkdirTemp("", "simd")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "kernel.wasm")
	cmd := exec.Command(clang, append(append([]string{}, ClangFlags...), "-o", out, src)...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("simd: %s: %v\n%s", clang, err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	if b, err = stripGlobals(b); err != nil {
		return nil, err
	}
	return b, Validate(b)
}

// Wasm section ids.
const (
	secCustom, secType, secImport, secFunction = 0, 1, 2, 3
	secGlobal, secExport, secStart, secCode    = 6, 7, 8, 10
	secData, secDataCount                      = 11, 12
)

type section struct {
	id   byte
	body []byte
}

func sections(b []byte) ([]section, error) {
	if len(b) < 8 || string(b[:4]) != "\x00asm" || string(b[4:8]) != "\x01\x00\x00\x00" {
		return nil, errors.New("simd: not a WebAssembly 1.0 module")
	}
	var ss []section
	for p := 8; p < len(b); {
		id := b[p]
		n, w, err := uleb(b[p+1:])
		if err != nil || p+1+w+int(n) > len(b) {
			return nil, fmt.Errorf("simd: section %d at byte %d is truncated", id, p)
		}
		ss = append(ss, section{id, b[p+1+w : p+1+w+int(n)]})
		p += 1 + w + int(n)
	}
	return ss, nil
}

func uleb(b []byte) (uint64, int, error) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return v, i + 1, nil
		}
	}
	return 0, 0, errors.New("simd: bad LEB128 number")
}

func name(b []byte) (string, []byte, error) {
	n, w, err := uleb(b)
	if err != nil || w+int(n) > len(b) {
		return "", nil, errors.New("simd: bad name")
	}
	return string(b[w : w+int(n)]), b[w+int(n):], nil
}

// stripGlobals drops the global section. lld always defines a
// __stack_pointer global, even when nothing uses it (no stack: every
// function here keeps its state in locals); a module whose code did refer to
// it would then fail validation, so the browser's WebAssembly.validate and
// the tests' instantiation prove nothing uses it.
func stripGlobals(b []byte) ([]byte, error) {
	ss, err := sections(b)
	if err != nil {
		return nil, err
	}
	out := append([]byte{}, b[:8]...)
	for _, s := range ss {
		if s.id == secGlobal {
			continue
		}
		out = append(out, s.id)
		n := uint64(len(s.body))
		for {
			c := byte(n & 0x7f)
			n >>= 7
			if n != 0 {
				out = append(out, c|0x80)
				continue
			}
			out = append(out, c)
			break
		}
		out = append(out, s.body...)
	}
	return out, nil
}

// Validate checks what the module may hold: its one import is env.memory,
// it has no data segments, no globals and no start function, and it exports
// Exports as functions.
func Validate(b []byte) error {
	ss, err := sections(b)
	if err != nil {
		return err
	}
	exports := map[string]byte{}
	for _, s := range ss {
		switch s.id {
		case secData, secDataCount:
			return errors.New("simd: the module has data segments: it would write into Go's memory")
		case secGlobal:
			return errors.New("simd: the module has globals (a shadow stack in Go's memory?)")
		case secStart:
			return errors.New("simd: the module has a start function")
		case secImport:
			n, w, err := uleb(s.body)
			if err != nil || n != 1 {
				return fmt.Errorf("simd: the module has %d imports, want only env.memory", n)
			}
			mod, rest, err := name(s.body[w:])
			if err != nil {
				return err
			}
			field, rest, err := name(rest)
			if err != nil || mod != "env" || field != "memory" || len(rest) == 0 || rest[0] != 2 {
				return fmt.Errorf("simd: the module imports %s.%s, want only the memory env.memory", mod, field)
			}
		case secExport:
			n, w, err := uleb(s.body)
			if err != nil {
				return err
			}
			rest := s.body[w:]
			for i := 0; i < int(n); i++ {
				var nm string
				if nm, rest, err = name(rest); err != nil || len(rest) < 2 {
					return errors.New("simd: bad export section")
				}
				exports[nm] = rest[0]
				_, w, err := uleb(rest[1:])
				if err != nil {
					return err
				}
				rest = rest[1+w:]
			}
		}
	}
	for _, e := range Exports {
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
