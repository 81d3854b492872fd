//go:build !js

package pth

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Argument layouts of pickle opcodes (protocols 0 to 5), as in Python's
// pickletools.
const (
	argNone  = iota
	argFixed // a fixed number of bytes
	argLen1  // 1-byte length, then that many bytes
	argLen4  // 4-byte little-endian length, then that many bytes
	argLen8  // 8-byte little-endian length, then that many bytes
	argLine  // one newline-terminated line
	argLine2 // two lines
)

type opArg struct {
	kind  int
	bytes int // for argFixed
}

var opcodes = func() map[byte]opArg {
	m := map[byte]opArg{}
	for _, op := range []byte("(.012NQRabde}lost)]u\x81\x85\x86\x87\x88\x89\x8f\x90\x91\x92\x93\x94\x97\x98") {
		m[op] = opArg{kind: argNone}
	}
	for op, n := range map[byte]int{'J': 4, 'K': 1, 'M': 2, 'h': 1, 'j': 4, 'q': 1, 'r': 4, 'G': 8,
		0x80: 1, 0x82: 1, 0x83: 2, 0x84: 4, 0x95: 8} {
		m[op] = opArg{kind: argFixed, bytes: n}
	}
	for _, op := range []byte{'U', 'C', 0x8a, 0x8c} {
		m[op] = opArg{kind: argLen1}
	}
	for _, op := range []byte{'T', 'X', 'B', 0x8b} {
		m[op] = opArg{kind: argLen4}
	}
	for _, op := range []byte{0x8d, 0x8e, 0x96} {
		m[op] = opArg{kind: argLen8}
	}
	for _, op := range []byte("FILPSVgp") {
		m[op] = opArg{kind: argLine}
	}
	m['c'] = opArg{kind: argLine2}
	m['i'] = opArg{kind: argLine2}
	return m
}()

var errPickleEnds = errors.New("the pickle ends early (truncated?)")

// walkPickle reads one pickle from r up to its STOP opcode, reading at most
// limit bytes, and returns how many bytes it took. It decodes no values: it
// checks that every opcode is known and that every length it reads (of a
// string, bytes, a long, a frame) fits in the bytes left, so that unpickling
// the same bytes afterwards cannot be made to allocate more than limit.
func walkPickle(r *bufio.Reader, limit int64) (int64, error) {
	var n int64
	skip := func(k uint64) error {
		if k > uint64(limit-n) {
			return errPickleEnds
		}
		for k > 0 {
			step := min(k, 1<<20)
			if _, err := r.Discard(int(step)); err != nil {
				return errPickleEnds
			}
			k -= step
			n += int64(step)
		}
		return nil
	}
	read := func(k int) ([]byte, error) {
		if int64(k) > limit-n {
			return nil, errPickleEnds
		}
		b := make([]byte, k)
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, errPickleEnds
		}
		n += int64(k)
		return b, nil
	}
	line := func() error {
		for {
			if n >= limit {
				return errPickleEnds
			}
			b, err := r.ReadByte()
			if err != nil {
				return errPickleEnds
			}
			n++
			if b == '\n' {
				return nil
			}
		}
	}
	for {
		at := n
		op, err := read(1)
		if err != nil {
			return n, err
		}
		arg, ok := opcodes[op[0]]
		if !ok {
			return n, fmt.Errorf("invalid pickle opcode 0x%02x at byte %d", op[0], at)
		}
		switch arg.kind {
		case argNone:
			if op[0] == '.' {
				return n, nil
			}
		case argFixed:
			b, err := read(arg.bytes)
			if err != nil {
				return n, err
			}
			if op[0] == 0x95 && binary.LittleEndian.Uint64(b) > uint64(limit-n) {
				return n, fmt.Errorf("pickle frame of %d bytes at byte %d runs past the end (truncated?)", binary.LittleEndian.Uint64(b), at)
			}
		case argLen1, argLen4, argLen8:
			size := map[int]int{argLen1: 1, argLen4: 4, argLen8: 8}[arg.kind]
			b, err := read(size)
			if err != nil {
				return n, err
			}
			var k uint64
			switch size {
			case 1:
				k = uint64(b[0])
			case 4:
				k = uint64(binary.LittleEndian.Uint32(b))
				if op[0] == 'T' || op[0] == 0x8b {
					k = uint64(int64(int32(k))) // signed: a negative length is huge here
				}
			case 8:
				k = binary.LittleEndian.Uint64(b)
			}
			if err := skip(k); err != nil {
				return n, fmt.Errorf("pickle opcode 0x%02x at byte %d has a %d-byte argument: %w", op[0], at, k, err)
			}
		case argLine:
			if err := line(); err != nil {
				return n, err
			}
		case argLine2:
			if err := line(); err != nil {
				return n, err
			}
			if err := line(); err != nil {
				return n, err
			}
		}
	}
}
