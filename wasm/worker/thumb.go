package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"image"
	"image/jpeg"
	"time"

	"github.com/bagnetweb/bagnet/engine"
	"github.com/bagnetweb/bagnet/preprocess"
	"github.com/bagnetweb/bagnet/protocol"
)

// thumbQuality is the JPEG quality of thumbnails: small pictures for a
// list, a few kB each.
const thumbQuality = 80

// classifyThumb is classify that also makes a thumbnail of the decoded
// image, at most side pixels on its longest side (protocol.ClassifyRequest
// Thumb): the image is decoded once for both.
func (w *worker) classifyThumb(id int, img []byte, topK, side int, ms func() float64) (*engine.Analysis, *resultMsg, error) {
	if w.eng == nil {
		return nil, nil, errNoModel
	}
	if side < 1 || side > protocol.MaxThumb {
		return nil, nil, fmt.Errorf("classify: thumbnail size %d is not in [1, %d]", side, protocol.MaxThumb)
	}
	t0 := time.Now()
	src, _, err := preprocess.Decode(img)
	if err != nil {
		return nil, nil, err
	}
	a, err := w.eng.ClassifyImage(src, topK)
	if err != nil {
		return nil, nil, err
	}
	a.Timings.DecodeMs = float64(time.Since(t0).Microseconds())/1000 - a.Timings.PreprocessMs - a.Timings.InferMs
	m, err := w.describe(a, nil, ms)
	if err != nil {
		return nil, nil, err
	}
	if m.Thumb, err = thumbURL(preprocess.Thumbnail(src, side)); err != nil {
		return nil, nil, err
	}
	w.mem.put(id, a)
	return a, m, nil
}

// thumbURL encodes a thumbnail as a data: URL of a JPEG image.
func thumbURL(img *image.RGBA) (string, error) {
	var buf bytes.Buffer
	buf.WriteString("data:image/jpeg;base64,")
	enc := base64.NewEncoder(base64.StdEncoding, &buf)
	if err := jpeg.Encode(enc, img, &jpeg.Options{Quality: thumbQuality}); err != nil {
		return "", fmt.Errorf("thumbnail: %v", err)
	}
	enc.Close()
	return buf.String(), nil
}
