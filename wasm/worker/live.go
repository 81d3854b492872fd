package main

import (
	"fmt"

	"github.com/bagnetweb/bagnet/preprocess"
	"github.com/bagnetweb/bagnet/protocol"
)

// live classifies a live camera frame (protocol.LiveRequest): rgba is
// size x size RGBA pixels already at the model's input size (alpha is
// ignored). It answers with the top classes and the top class's evidence
// map; the analysis is not kept. clock (milliseconds) stamps the stages
// in the reply's Times (Received and Posted are the caller's).
func (w *worker) live(rgba []byte, size, topK int, clock func() float64) (*protocol.LiveReply, []float32, error) {
	if w.eng == nil {
		return nil, nil, errNoModel
	}
	n := w.eng.InputSize
	if size != n {
		return nil, nil, fmt.Errorf("live: the frame is %dx%d pixels, the model takes %dx%d", size, size, n, n)
	}
	if len(rgba) != n*n*4 {
		return nil, nil, fmt.Errorf("live: %d bytes of pixels, want %dx%dx4 (RGBA)", len(rgba), n, n)
	}
	mode, err := preprocess.ParseMode(w.eng.Resize)
	if err != nil {
		return nil, nil, err
	}
	rgb := make([]uint8, n*n*3)
	for p, q := 0, 0; q < len(rgb); p, q = p+4, q+3 {
		rgb[q], rgb[q+1], rgb[q+2] = rgba[p], rgba[p+1], rgba[p+2]
	}
	times := &protocol.LiveTimes{Input: clock()}
	a, err := w.eng.ClassifyRGB(rgb, preprocess.NewTransform(mode, n, n, n), max(1, topK))
	if err != nil {
		return nil, nil, err
	}
	if len(a.Top) == 0 {
		return nil, nil, fmt.Errorf("live: the model has no classes")
	}
	times.Inferred = clock()
	c := a.Top[0].Index
	ev, err := a.Evidence(c)
	if err != nil {
		return nil, nil, err
	}
	times.Evidence = clock()
	return &protocol.LiveReply{Header: protocol.Header{Type: protocol.KindLive}, Top: a.Top, Class: c,
		Bias: w.eng.Bias(c), Map: a.Result.Map, InferMs: a.Timings.InferMs, Times: times}, ev, nil
}
