package preprocess

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"io"
	"os"

	"github.com/bagnetweb/bagnet/internal/kinderr"
)

// MaxFileSize caps the image files ReadFile reads: 200 MB, the size of the
// largest image Decode accepts (MaxPixels) stored uncompressed as 8-bit
// RGBA. Compressed photos are far smaller (a 50 MP JPEG is 10-30 MB).
const MaxFileSize = 4 * MaxPixels

// sniffLen is how much of a file ReadFile reads before deciding whether it
// is an image at all.
const sniffLen = 512

// ReadFile reads an image file for Decode, refusing one over MaxFileSize
// before reading it (a regular file's size is checked first; a pipe or a
// device is read up to the cap), and one that is not an image of a
// supported format after its first 512 bytes: neither a huge sparse file
// nor /dev/zero costs more than those bytes. Errors wrap ErrTooLarge or
// ErrUnsupported (with Decode's message) for those, else they are the file
// system's.
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := int64(-1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		if size = st.Size(); size > MaxFileSize {
			return nil, tooBig(size)
		}
	}
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(f, head)
	head = head[:n]
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, err
	}
	if _, _, err := image.DecodeConfig(bytes.NewReader(head)); errors.Is(err, image.ErrFormat) || n == 0 {
		_, _, err := Decode(head) // its message for what the file is
		return nil, err
	}
	if n < sniffLen {
		return head, nil
	}
	buf := bytes.NewBuffer(head)
	if size >= 0 {
		buf.Grow(int(size) - n)
	}
	if _, err := io.Copy(buf, io.LimitReader(f, MaxFileSize-int64(n)+1)); err != nil {
		return nil, err
	}
	if int64(buf.Len()) > MaxFileSize {
		return nil, tooBig(-1)
	}
	return buf.Bytes(), nil
}

func tooBig(size int64) error {
	msg := fmt.Sprintf("image file is over the %d MB limit", MaxFileSize/1_000_000)
	if size >= 0 {
		msg = fmt.Sprintf("image file is %s, over the %d MB limit", decimalBytes(size), MaxFileSize/1_000_000)
	}
	return &kinderr.Error{Kind: ErrTooLarge, Msg: msg}
}

// decimalBytes formats n bytes in MB, or GB from 10 GB.
func decimalBytes(n int64) string {
	if n >= 10e9 {
		return fmt.Sprintf("%.0f GB", float64(n)/1e9)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}
