package preprocess

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/bagnetweb/bagnet/internal/kinderr"
)

// Limits on the work a JPEG may ask of the decoder. A progressive JPEG
// codes its image in scans, and Go's image/jpeg (like the standard) sets no
// limit on their number: each scan visits every block of the components it
// codes, even an empty one (a few bytes of end-of-band runs cover 32767
// blocks), so a 150 kB file of 2,000 empty scans at 7000x7000 takes over a
// minute to decode. Real encoders write 1 scan (baseline) or about 10
// (libjpeg's progressive default; mozjpeg's optimised scripts a few more).
const (
	// MaxJPEGScans is the most scans a JPEG may have.
	MaxJPEGScans = 500
	// MaxJPEGScanBlocks bounds the decoder's work: the 8x8 blocks all the
	// scans visit together, summed over each scan's components. It is the
	// work of 64 scans over one full-resolution component of a MaxPixels
	// image, a few seconds in Go, and about 10 times what a 50 MP
	// progressive photo from libjpeg needs.
	MaxJPEGScanBlocks = 64 * MaxPixels / 64
)

// jpegScanWork walks a JPEG file's marker segments, scans included, the
// way image/jpeg does (skipping stray bytes between segments and the
// entropy-coded data after each scan header), and returns the number of
// scans and the blocks they visit, from the frame header's component
// sizes. It stops quietly at the first inconsistency (the decoder reports
// it), after the end-of-image marker, or once a limit is passed.
func jpegScanWork(data []byte) (scans int, blocks int64) {
	if len(data) < 4 || data[0] != 0xff || data[1] != 0xd8 {
		return 0, 0
	}
	compBlocks := map[byte]int64{} // component id -> its blocks in a non-interleaved scan
	i := 2
	for i+2 <= len(data) && scans <= MaxJPEGScans && blocks <= MaxJPEGScanBlocks {
		if data[i] != 0xff || data[i+1] == 0 || data[i+1] == 0xff { // stray data or fill: skip, as image/jpeg does
			i++
			continue
		}
		m := data[i+1]
		i += 2
		switch {
		case m == 0xd9: // EOI: the decoder stops here
			return scans, blocks
		case m == 0x01 || m == 0xd8 || (m >= 0xd0 && m <= 0xd7): // no length
			continue
		}
		if i+2 > len(data) {
			break
		}
		n := int(binary.BigEndian.Uint16(data[i:]))
		if n < 2 || n > len(data)-i {
			break
		}
		seg := data[i+2 : i+n]
		i += n
		switch {
		case m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc: // SOFn
			frameBlocks(seg, compBlocks)
		case m == 0xda: // SOS: count it, then skip its entropy-coded data
			scans++
			if len(seg) >= 1 {
				for c := 0; c < int(seg[0]) && 1+2*c < len(seg); c++ {
					blocks += compBlocks[seg[1+2*c]]
				}
			}
			for i+1 < len(data) && (data[i] != 0xff || data[i+1] == 0 || (data[i+1] >= 0xd0 && data[i+1] <= 0xd7)) {
				i++
			}
		}
	}
	return scans, blocks
}

// frameBlocks records, from a frame header, how many 8x8 blocks each
// component has (its size follows from its sampling factors relative to
// the largest ones).
func frameBlocks(seg []byte, out map[byte]int64) {
	if len(seg) < 6 {
		return
	}
	h, w, nc := int64(binary.BigEndian.Uint16(seg[1:])), int64(binary.BigEndian.Uint16(seg[3:])), int(seg[5])
	if len(seg) < 6+3*nc {
		return
	}
	var hmax, vmax int64 = 1, 1
	for c := 0; c < nc; c++ {
		hmax = max(hmax, int64(seg[7+3*c]>>4))
		vmax = max(vmax, int64(seg[7+3*c]&15))
	}
	for c := 0; c < nc; c++ {
		hs, vs := int64(seg[7+3*c]>>4), int64(seg[7+3*c]&15)
		cw, ch := (w*hs+hmax-1)/hmax, (h*vs+vmax-1)/vmax
		out[seg[6+3*c]] = ((cw + 7) / 8) * ((ch + 7) / 8)
	}
}

// checkJPEGWork rejects a JPEG whose scans would cost the decoder more
// than the limits allow.
func checkJPEGWork(data []byte, w, h int) error {
	scans, blocks := jpegScanWork(data)
	switch {
	case scans > MaxJPEGScans:
		return &kinderr.Error{Kind: ErrTooLarge, Msg: fmt.Sprintf(
			"JPEG has over %d scans, too many to decode (real photos have 1 to about 20; a decompression bomb?)", MaxJPEGScans)}
	case blocks > MaxJPEGScanBlocks:
		return &kinderr.Error{Kind: ErrTooLarge, Msg: fmt.Sprintf(
			"JPEG of %dx%d pixels is too costly to decode: its first %d scans already visit %s million blocks, over the limit of %d million (a decompression bomb?)",
			w, h, scans, strconv.FormatFloat(float64(blocks)/1e6, 'f', 1, 64), MaxJPEGScanBlocks/1_000_000)}
	}
	return nil
}
