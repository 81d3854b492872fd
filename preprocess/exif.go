package preprocess

import "encoding/binary"

// jpegSegments calls f with the marker and payload of each marker segment
// of a JPEG file before its first scan, until f returns false. It stops
// quietly at the first inconsistency; every length is bounds-checked, so any
// input is safe.
func jpegSegments(data []byte, f func(marker byte, payload []byte) bool) {
	if len(data) < 4 || data[0] != 0xff || data[1] != 0xd8 {
		return
	}
	for i := 2; i+2 <= len(data); {
		if data[i] != 0xff {
			return // lost sync: not a marker
		}
		m := data[i+1]
		if m == 0xff { // fill byte
			i++
			continue
		}
		i += 2
		switch {
		case m == 0xd9 || m == 0xda: // EOI, or SOS: the headers are over
			return
		case m == 0x01 || m == 0xd8 || (m >= 0xd0 && m <= 0xd7): // no length
			continue
		}
		if i+2 > len(data) {
			return
		}
		n := int(binary.BigEndian.Uint16(data[i:]))
		if n < 2 || n > len(data)-i {
			return
		}
		if !f(m, data[i+2:i+n]) {
			return
		}
		i += n
	}
}

// jpegOrientation returns the EXIF Orientation tag (1 to 8) of a JPEG file,
// or 1 when the file has none or its metadata cannot be read. It reads IFD0
// of the first APP1 "Exif" segment that carries the tag.
func jpegOrientation(data []byte) int {
	o := 1
	jpegSegments(data, func(m byte, seg []byte) bool {
		if m == 0xe1 && len(seg) >= 6 && string(seg[:6]) == "Exif\x00\x00" {
			if v := exifOrientation(seg[6:]); v != 0 {
				o = v
				return false
			}
		}
		return true
	})
	return o
}

// jpegCoding names the coding process of a JPEG file's frame header when it
// is one that image/jpeg does not implement, or returns "".
func jpegCoding(data []byte) string {
	kind := ""
	jpegSegments(data, func(m byte, _ []byte) bool {
		switch m {
		case 0xc3:
			kind = "lossless coding"
		case 0xc5, 0xc6, 0xc7, 0xcd, 0xce, 0xcf:
			kind = "hierarchical coding"
		case 0xc9, 0xca, 0xcb:
			kind = "arithmetic coding"
		}
		return kind == ""
	})
	return kind
}

// exifOrientation returns the Orientation tag (0x0112) of IFD0 of the TIFF
// structure t, or 0 if it is missing, out of range or unreadable.
func exifOrientation(t []byte) int {
	if len(t) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0
	}
	if bo.Uint16(t[2:]) != 42 {
		return 0
	}
	size := uint64(len(t))
	ifd := uint64(bo.Uint32(t[4:]))
	if ifd < 8 || ifd+2 > size {
		return 0
	}
	n := uint64(bo.Uint16(t[ifd:]))
	for k := uint64(0); k < n; k++ {
		e := ifd + 2 + 12*k
		if e+12 > size {
			return 0
		}
		if bo.Uint16(t[e:]) != 0x0112 {
			continue
		}
		typ, count := bo.Uint16(t[e+2:]), bo.Uint32(t[e+4:])
		if count < 1 {
			return 0
		}
		var v uint32
		switch typ {
		case 3: // SHORT, the type the standard prescribes
			v = uint32(bo.Uint16(t[e+8:]))
		case 4: // LONG, written by a few tools
			v = bo.Uint32(t[e+8:])
		default:
			return 0
		}
		if v < 1 || v > 8 {
			return 0
		}
		return int(v)
	}
	return 0
}
