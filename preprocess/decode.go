package preprocess

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // registers the GIF decoder
	"image/jpeg"
	"image/png"
	"io"
	"strconv"
	"strings"

	"github.com/bagnetweb/bagnet/internal/kinderr"
	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	_ "golang.org/x/image/webp" // registers the WebP decoder
)

const (
	// MaxPixels is the largest image, in pixels, that Decode accepts.
	MaxPixels = 50_000_000
	// MaxAspect is the most elongated image Decode accepts: the longer side
	// may be at most MaxAspect times the shorter one. It bounds the cost of
	// resampling a thin strip to a square model input.
	MaxAspect = 100
)

// Errors returned by Decode wrap one of these; test with errors.Is.
var (
	ErrUnsupported = errors.New("not a supported image")
	ErrCorrupt     = errors.New("corrupt image")
	ErrTooLarge    = errors.New("image too large")
)

// formatNames are the display names of the formats image.Decode reports.
var formatNames = map[string]string{
	"jpeg": "JPEG", "png": "PNG", "gif": "GIF", "webp": "WebP", "bmp": "BMP", "tiff": "TIFF",
}

const supportedList = "JPEG, PNG, GIF, WebP, BMP or TIFF"

// Decode decodes an image file: JPEG, PNG, GIF (first frame), WebP (lossy
// and lossless), BMP or TIFF. format is the name image.Decode uses ("jpeg",
// "png", "gif", "webp", "bmp" or "tiff").
//
// The image size is read from the header first, and images over MaxPixels
// or more elongated than MaxAspect are rejected before any pixel is
// decoded, as are JPEGs whose scans would cost more work than
// MaxJPEGScans and MaxJPEGScanBlocks allow. A JPEG's EXIF Orientation is applied, so the result is upright
// as a browser shows it. Lossy WebP images, whose YCbCr samples are limited
// range, are converted to RGB here (*image.RGBA, or *image.NRGBA with
// alpha), since image.YCbCr would treat them as full range.
//
// Errors wrap ErrUnsupported, ErrCorrupt or ErrTooLarge and say what is
// wrong, for example "not a supported image (HEIC/HEIF; expected JPEG, PNG,
// GIF, WebP, BMP or TIFF)", "corrupt JPEG: file is truncated (unexpected
// EOF)" or "image is 12000x9000 = 108 MP, over the 50 MP limit". Decode
// never panics.
func Decode(data []byte) (img image.Image, format string, err error) {
	if len(data) == 0 {
		return nil, "", &kinderr.Error{Kind: ErrUnsupported, Msg: "not a supported image (the file is empty)"}
	}
	var cfg image.Config
	err = guard(func() error {
		var err error
		cfg, format, err = image.DecodeConfig(bytes.NewReader(data))
		return err
	})
	if err != nil {
		return nil, format, decodeErr(format, err, data)
	}
	if err := checkSize(format, cfg.Width, cfg.Height); err != nil {
		return nil, format, err
	}
	if format == "jpeg" {
		if err := checkJPEGWork(data, cfg.Width, cfg.Height); err != nil {
			return nil, format, err
		}
	}
	err = guard(func() error {
		var err error
		img, _, err = image.Decode(bytes.NewReader(data))
		return err
	})
	if err != nil {
		return nil, format, decodeErr(format, err, data)
	}
	// The decoders size their output from the header, but check anyway.
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		if err := checkSize(format, b.Dx(), b.Dy()); err != nil {
			return nil, format, err
		}
	}
	switch format {
	case "jpeg":
		if o := jpegOrientation(data); o != 1 {
			img = toOpaqueRGBA(img, o)
		}
	case "webp":
		img = webpColour(img)
	}
	return img, format, nil
}

// checkSize rejects images without pixels, over MaxPixels or more elongated
// than MaxAspect.
func checkSize(format string, w, h int) error {
	if w <= 0 || h <= 0 {
		return &kinderr.Error{Kind: ErrCorrupt,
			Msg: fmt.Sprintf("corrupt %s: the image is %dx%d, without pixels", displayName(format), w, h)}
	}
	n := int64(w) * int64(h)
	if n > MaxPixels {
		return &kinderr.Error{Kind: ErrTooLarge,
			Msg: fmt.Sprintf("image is %dx%d = %s MP, over the %d MP limit", w, h, megapixels(n), MaxPixels/1_000_000)}
	}
	long, short := max(w, h), min(w, h)
	if long > MaxAspect*short {
		return &kinderr.Error{Kind: ErrTooLarge,
			Msg: fmt.Sprintf("image is %dx%d, more elongated than the %d:1 aspect ratio limit", w, h, MaxAspect)}
	}
	return nil
}

// megapixels formats n pixels in millions, with enough digits to tell it
// apart from the limit.
func megapixels(n int64) string {
	mp := float64(n) / 1e6
	s := strconv.FormatFloat(mp, 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	if s == strconv.Itoa(MaxPixels/1_000_000) {
		s = strconv.FormatFloat(mp, 'f', -1, 64)
	}
	return s
}

// guard runs f and turns a panic inside a decoder into an error.
func guard(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decoder failed: %v", r)
		}
	}()
	return f()
}

func displayName(format string) string {
	if n, ok := formatNames[format]; ok {
		return n
	}
	return strings.ToUpper(format)
}

// decodeErr describes a failure of image.DecodeConfig or image.Decode.
func decodeErr(format string, err error, data []byte) error {
	if errors.Is(err, image.ErrFormat) {
		return &kinderr.Error{Kind: ErrUnsupported,
			Msg: fmt.Sprintf("not a supported image (%s; expected %s)", sniff(data), supportedList)}
	}
	name := displayName(format)
	var (
		jpegUnsupported jpeg.UnsupportedError
		pngUnsupported  png.UnsupportedError
		tiffUnsupported tiff.UnsupportedError
	)
	switch {
	case errors.As(err, &jpegUnsupported):
		what := "an unsupported feature: " + string(jpegUnsupported)
		if c := jpegCoding(data); c != "" {
			what = c
		}
		return &kinderr.Error{Kind: ErrUnsupported, Cause: err,
			Msg: fmt.Sprintf("not a supported image (%s using %s)", name, what)}
	case errors.As(err, &pngUnsupported), errors.As(err, &tiffUnsupported), errors.Is(err, bmp.ErrUnsupported):
		return &kinderr.Error{Kind: ErrUnsupported, Cause: err,
			Msg: fmt.Sprintf("not a supported image (%s using an unsupported feature: %s)", name, trimPrefixes(err.Error(), format))}
	}
	var what string
	switch msg := err.Error(); {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		what = "file is truncated (unexpected EOF)"
	case strings.HasSuffix(msg, "short Huffman data"):
		// image/jpeg reports a scan cut short this way.
		what = "file is truncated or damaged (short Huffman data)"
	default:
		what = trimPrefixes(msg, format)
	}
	return &kinderr.Error{Kind: ErrCorrupt, Msg: fmt.Sprintf("corrupt %s: %s", name, what), Cause: err}
}

// trimPrefixes drops the decoders' "png: invalid format: " style prefixes
// from an error message; the format is named by the caller.
func trimPrefixes(msg, format string) string {
	msg = strings.TrimPrefix(msg, format+": ")
	for _, p := range []string{"invalid format: ", "invalid JPEG format: ", "unsupported JPEG feature: ",
		"unsupported feature: ", "unsupported BMP image"} {
		msg = strings.TrimPrefix(msg, p)
	}
	if msg == "" {
		msg = "not recognised"
	}
	return msg
}

// sniff names the kind of a file the decoders do not recognise.
func sniff(data []byte) string {
	switch {
	case len(data) >= 12 && string(data[4:8]) == "ftyp":
		switch string(data[8:12]) {
		case "heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1":
			return "HEIC/HEIF"
		case "avif", "avis":
			return "AVIF"
		}
		return "ISO media file, brand " + strconv.Quote(string(data[8:12]))
	case bytes.HasPrefix(data, []byte{0xff, 0x0a}), bytes.HasPrefix(data, []byte("\x00\x00\x00\x0cJXL ")):
		return "JPEG XL"
	case bytes.HasPrefix(data, []byte("%PDF")):
		return "PDF"
	case bytes.HasPrefix(data, []byte{0, 0, 1, 0}):
		return "ICO"
	case bytes.HasPrefix(data, []byte("RIFF")):
		return "RIFF file that is not WebP"
	}
	head := data[:min(len(data), 512)]
	t := bytes.ToLower(bytes.TrimSpace(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))))
	switch {
	case bytes.HasPrefix(t, []byte("<svg")) || (bytes.HasPrefix(t, []byte("<?xml")) && bytes.Contains(t, []byte("<svg"))):
		return "SVG"
	case bytes.HasPrefix(t, []byte("<!doctype html")) || bytes.HasPrefix(t, []byte("<html")):
		return "HTML"
	case isText(head):
		return "text"
	}
	n := min(len(data), 8)
	return fmt.Sprintf("unknown data starting % x", data[:n])
}

// isText reports whether b looks like printable text.
func isText(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
