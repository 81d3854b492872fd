// Package wasmbin reads the few parts of a WebAssembly 1.0 binary that the
// SIMD kernel module's checks need: its sections, imports and exports. It
// is pure parsing (no toolchain), shared by package simd's Validate and the
// module's build command.
package wasmbin

import (
	"errors"
	"fmt"
)

// Wasm section ids.
const (
	SecCustom, SecType, SecImport, SecFunction = 0, 1, 2, 3
	SecGlobal, SecExport, SecStart, SecCode    = 6, 7, 8, 10
	SecData, SecDataCount                      = 11, 12
)

// Section is one section of a module: its id and its bytes.
type Section struct {
	ID   byte
	Body []byte
}

// Sections splits a module into its sections.
func Sections(b []byte) ([]Section, error) {
	if len(b) < 8 || string(b[:4]) != "\x00asm" || string(b[4:8]) != "\x01\x00\x00\x00" {
		return nil, errors.New("wasm: not a WebAssembly 1.0 module")
	}
	var ss []Section
	for p := 8; p < len(b); {
		id := b[p]
		n, w, err := ULEB(b[p+1:])
		if err != nil || p+1+w+int(n) > len(b) {
			return nil, fmt.Errorf("wasm: section %d at byte %d is truncated", id, p)
		}
		ss = append(ss, Section{id, b[p+1+w : p+1+w+int(n)]})
		p += 1 + w + int(n)
	}
	return ss, nil
}

// ULEB reads an unsigned LEB128 number: its value and its length.
func ULEB(b []byte) (uint64, int, error) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return v, i + 1, nil
		}
	}
	return 0, 0, errors.New("wasm: bad LEB128 number")
}

// Name reads a length-prefixed name and returns it with the bytes after it.
func Name(b []byte) (string, []byte, error) {
	n, w, err := ULEB(b)
	if err != nil || w+int(n) > len(b) {
		return "", nil, errors.New("wasm: bad name")
	}
	return string(b[w : w+int(n)]), b[w+int(n):], nil
}

// StripGlobals drops the global section. lld always defines a
// __stack_pointer global, even when nothing uses it (no stack: every
// function here keeps its state in locals); a module whose code did refer to
// it would then fail validation, so the browser's WebAssembly.validate and
// the tests' instantiation prove nothing uses it.
func StripGlobals(b []byte) ([]byte, error) {
	ss, err := Sections(b)
	if err != nil {
		return nil, err
	}
	out := append([]byte{}, b[:8]...)
	for _, s := range ss {
		if s.ID == SecGlobal {
			continue
		}
		out = append(out, s.ID)
		n := uint64(len(s.Body))
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
		out = append(out, s.Body...)
	}
	return out, nil
}
