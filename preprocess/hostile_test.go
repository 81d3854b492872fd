package preprocess

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bagnetweb/bagnet/internal/testfixture"
	"github.com/bagnetweb/bagnet/internal/testimage"
)

// gifFrameBomb is a GIF whose logical screen is 1x1 but whose first frame
// claims 65535x65535 pixels.
func gifFrameBomb() []byte {
	b := []byte("GIF89a")
	b = append(b, 1, 0, 1, 0, 0, 0, 0)                      // screen 1x1, no global colour table
	b = append(b, 0x2c, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff) // frame at 0,0, 65535x65535
	b = append(b, 0x80, 0, 0, 0, 255, 255, 255)             // local colour table of 2
	b = append(b, 2, 2, 0x4c, 0x01, 0, 0x3b)                // LZW: clear, end; trailer
	return b
}

// webpCanvasBomb is a WebP whose VP8X canvas is 1x1 but whose lossless
// bitstream claims 16384x16384 pixels.
func webpCanvasBomb() []byte {
	chunk := func(id string, p []byte) []byte {
		c := append([]byte(id), binary.LittleEndian.AppendUint32(nil, uint32(len(p)))...)
		c = append(c, p...)
		if len(p)%2 == 1 {
			c = append(c, 0)
		}
		return c
	}
	vp8x := chunk("VP8X", []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0}) // canvas 1x1
	hdr := uint32(16383) | uint32(16383)<<14                    // 14-bit width-1, height-1, no alpha, version 0
	vp8l := chunk("VP8L", append([]byte{0x2f}, binary.LittleEndian.AppendUint32(nil, hdr)...))
	body := append([]byte("WEBP"), append(vp8x, vp8l...)...)
	return append(append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(len(body)))...), body...)
}

// tiffDeflate is a w x h 8-bit grey TIFF whose one strip is zlib data
// inflating to raw bytes (a decompression bomb when raw > w*h).
func tiffDeflate(w, h, raw int) []byte {
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	zw.Write(make([]byte, raw))
	zw.Close()
	b := []byte("II*\x00\x08\x00\x00\x00")
	type entry struct {
		Tag, Type uint16
		N, V      uint32
	}
	es := []entry{{256, 4, 1, uint32(w)}, {257, 4, 1, uint32(h)}, {258, 3, 1, 8}, {259, 3, 1, 8}, {262, 3, 1, 1},
		{273, 4, 1, 8 + 2 + 9*12 + 4}, {277, 3, 1, 1}, {278, 4, 1, uint32(h)}, {279, 4, 1, uint32(z.Len())}}
	var ifd bytes.Buffer
	binary.Write(&ifd, binary.LittleEndian, uint16(len(es)))
	binary.Write(&ifd, binary.LittleEndian, es)
	binary.Write(&ifd, binary.LittleEndian, uint32(0))
	return append(append(b, ifd.Bytes()...), z.Bytes()...)
}

// Decompression bombs: small files that would make a decoder run for a
// minute or allocate gigabytes get a named error within a second, with
// little memory, before any pixel is decoded.
func TestDecodeBombs(t *testing.T) {
	for _, tc := range []struct {
		name     string
		data     []byte
		kind     error  // nil: decodes
		want     string // in the error
		maxAlloc uint64
	}{
		{"JPEG: 2000 empty scans at 7000x7000", testimage.ScanBomb(7000, 7000, 2000), ErrTooLarge,
			"JPEG of 7000x7000 pixels is too costly to decode: its first 66 scans already visit 50.5 million blocks, over the limit of 50 million", 1 << 20},
		{"JPEG: 66 empty scans at 7000x7000", testimage.ScanBomb(7000, 7000, 66), ErrTooLarge, "first 66 scans already visit 50.5 million blocks", 1 << 20},
		{"JPEG: 501 empty scans at 64x64", testimage.ScanBomb(64, 64, 501), ErrTooLarge, "JPEG has over 500 scans, too many to decode", 1 << 20},
		{"JPEG: 100,000 empty scans at 8x8", testimage.ScanBomb(8, 8, 100_000), ErrTooLarge, "JPEG has over 500 scans", 1 << 20},
		{"JPEG: 500 empty scans at 64x64", testimage.ScanBomb(64, 64, 500), nil, "", 8 << 20},
		{"JPEG: 10 empty scans at 640x480", testimage.ScanBomb(640, 480, 10), nil, "", 32 << 20},
		{"PNG declaring 100000x100000", pngHeader(100000, 100000), ErrTooLarge, "image is 100000x100000 = 10000 MP, over the 50 MP limit", 1 << 20},
		{"GIF: 1x1 screen, 65535x65535 frame", gifFrameBomb(), ErrCorrupt, "corrupt GIF: frame bounds larger than image bounds", 1 << 20},
		{"WebP: 1x1 canvas, 16384x16384 bitstream", webpCanvasBomb(), ErrCorrupt, "corrupt WebP", 1 << 20},
		{"TIFF: 1x1 with a 200 MB deflate strip", tiffDeflate(1, 1, 200<<20), nil, "", 1 << 20},
	} {
		var err error
		var img image.Image
		d, alloc := testfixture.Measure(func() { img, _, err = Decode(tc.data) })
		switch {
		case tc.kind == nil && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.kind != nil && (!errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want %v mentioning %q", tc.name, err, tc.kind, tc.want)
		case alloc > tc.maxAlloc:
			t.Errorf("%s: allocated %d bytes, want at most %d", tc.name, alloc, tc.maxAlloc)
		case d > 5*time.Second:
			t.Errorf("%s: took %v", tc.name, d)
		}
		if err == nil {
			// The empty scans code a mid-grey image.
			if g := color.GrayModel.Convert(img.At(0, 0)).(color.Gray); tc.name[:4] == "JPEG" && g.Y != 128 {
				t.Errorf("%s: pixel (0,0) is %v, want grey 128", tc.name, g)
			}
		}
		t.Logf("%s (%d bytes): %v, %.1f kB allocated: %v", tc.name, len(tc.data), d.Round(time.Microsecond), float64(alloc)/1e3, err)
	}
}

// jpegScanWork counts the scans and blocks of real files as the decoder
// sees them: Go's baseline encoder writes one interleaved 4:2:0 scan.
func TestJPEGScanWork(t *testing.T) {
	m := image.NewRGBA(image.Rect(0, 0, 100, 60))
	data := encodeJPEG(t, m)
	scans, blocks := jpegScanWork(data)
	// Y: 13x8 blocks; Cb, Cr at half size (50x30): 7x4 blocks each.
	if scans != 1 || blocks != 13*8+2*7*4 {
		t.Errorf("baseline 100x60 4:2:0: %d scans, %d blocks; want 1, %d", scans, blocks, 13*8+2*7*4)
	}
	if scans, blocks := jpegScanWork(testimage.ScanBomb(64, 48, 7)); scans != 7 || blocks != 7*8*6 {
		t.Errorf("7 scans of 64x48: %d scans, %d blocks", scans, blocks)
	}
	// Stray bytes and fill bytes between segments, as image/jpeg skips them.
	b := testimage.ScanBomb(64, 48, 3)
	i := bytes.LastIndex(b, []byte{0xff, 0xda})
	b = append(append(bytes.Clone(b[:i]), 0x12, 0x34, 0xff, 0xff), b[i:]...)
	if scans, _ := jpegScanWork(b); scans != 3 {
		t.Errorf("with stray bytes: %d scans, want 3", scans)
	}
	if _, _, err := Decode(b); err != nil {
		t.Errorf("with stray bytes: %v", err)
	}
	// Nothing after the end of the image counts.
	b = append(testimage.ScanBomb(64, 48, 3), testimage.ScanBomb(64, 48, 600)[2:]...)
	if scans, _ := jpegScanWork(b); scans != 3 {
		t.Errorf("scans after EOI: %d counted, want 3", scans)
	}
}

// ReadFile refuses image files over its cap before reading them, and
// reads only the first bytes of what is not an image, however long.
func TestReadFileHostile(t *testing.T) {
	dir := t.TempDir()
	file := func(name string, b []byte, size int64) string {
		return testfixture.WriteFile(t, dir, name, b, size)
	}
	jpg := encodeJPEG(t, image.NewRGBA(image.Rect(0, 0, 40, 30)))
	for _, tc := range []struct {
		name, path string
		kind       error
		want       string
	}{
		{"100 GB sparse file", file("sparse.jpg", nil, 100<<30), ErrTooLarge, "image file is 107 GB, over the 200 MB limit"},
		{"100 GB sparse file starting as a JPEG", file("sparse2.jpg", jpg, 100<<30), ErrTooLarge, "over the 200 MB limit"},
		{"/dev/zero", "/dev/zero", ErrUnsupported, "not a supported image (unknown data starting 00 00 00 00 00 00 00 00"},
		{"empty", file("empty.png", nil, 0), ErrUnsupported, "not a supported image (the file is empty)"},
		{"text", file("notes.jpg", []byte("not a picture\n"), 0), ErrUnsupported, "not a supported image (text"},
	} {
		if _, err := os.Stat(tc.path); err != nil {
			t.Logf("%s: skipped: %v", tc.name, err)
			continue
		}
		var err error
		d, alloc := testfixture.Measure(func() { _, err = ReadFile(tc.path) })
		if !errors.Is(err, tc.kind) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %v mentioning %q", tc.name, err, tc.kind, tc.want)
		} else if alloc > 64<<10 {
			t.Errorf("%s: allocated %d bytes", tc.name, alloc)
		}
		t.Logf("%s: %v, %.1f kB allocated: %v", tc.name, d.Round(time.Microsecond), float64(alloc)/1e3, err)
	}
	for _, b := range [][]byte{jpg, jpg[:100], pngHeader(3, 3)} {
		got, err := ReadFile(file("ok", b, 0))
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("a %d-byte file: %d bytes, %v", len(b), len(got), err)
		}
	}
	if _, err := ReadFile(filepath.Join(dir, "missing.jpg")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
