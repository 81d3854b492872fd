package testimage

import (
	"bytes"
	"encoding/binary"
)

// ScanBomb is a grayscale progressive JPEG of w x h pixels with the given
// number of scans, written marker by marker: one quantisation table, a SOF2
// frame header, one AC Huffman table holding a single code (EOB14: a run of
// up to 32767 empty blocks), then scans of the AC band 1-63 that each
// cover the whole image with a few such runs. Every scan is about 50 bytes
// yet makes a decoder visit every block of the image once, so a small file
// costs time in proportion to scans x pixels (Go's image/jpeg has no scan
// limit: 2,000 scans of 7000x7000 take over a minute).
func ScanBomb(w, h, scans int) []byte {
	var b bytes.Buffer
	seg := func(marker byte, payload []byte) {
		b.Write([]byte{0xff, marker})
		binary.Write(&b, binary.BigEndian, uint16(len(payload)+2))
		b.Write(payload)
	}
	b.Write([]byte{0xff, 0xd8}) // SOI
	dqt := make([]byte, 65)     // table 0, 8-bit, all ones
	for i := 1; i < len(dqt); i++ {
		dqt[i] = 1
	}
	seg(0xdb, dqt)
	seg(0xc2, []byte{8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), 1, 1, 0x11, 0}) // SOF2, 1 component
	// DHT: class 1 (AC), table 0; one code of length 1 for symbol 0xE0
	// (run/size 14/0: EOBRUN = 2^14 + 14 more bits).
	dht := []byte{0x10, 1}
	dht = append(dht, make([]byte, 15)...)
	dht = append(dht, 0xe0)
	seg(0xc4, dht)
	blocks := ((w + 7) / 8) * ((h + 7) / 8)
	for s := 0; s < scans; s++ {
		seg(0xda, []byte{1, 1, 0x00, 1, 63, 0x00}) // SOS: component 1, tables 0/0, Ss=1, Se=63, Ah=Al=0
		var bw bitWriter
		for left := blocks; left > 0; left -= 32767 {
			bw.bits(0, 1)        // the EOB14 code "0"
			bw.bits(1<<14-1, 14) // 2^14 + 16383: a run of 32767 blocks (the last may overshoot)
		}
		b.Write(bw.flush())
	}
	b.Write([]byte{0xff, 0xd9}) // EOI
	return b.Bytes()
}

// bitWriter writes entropy-coded bits MSB first, stuffing a zero byte
// after each 0xFF.
type bitWriter struct {
	out   []byte
	acc   uint32
	nbits int
}

func (w *bitWriter) bits(v uint32, n int) {
	for i := n - 1; i >= 0; i-- {
		w.acc = w.acc<<1 | (v>>i)&1
		if w.nbits++; w.nbits == 8 {
			w.emit()
		}
	}
}

func (w *bitWriter) emit() {
	w.out = append(w.out, byte(w.acc))
	if byte(w.acc) == 0xff {
		w.out = append(w.out, 0)
	}
	w.acc, w.nbits = 0, 0
}

// flush pads the last byte with one bits, as the standard asks.
func (w *bitWriter) flush() []byte {
	for w.nbits != 0 {
		w.bits(1, 1)
	}
	return w.out
}
