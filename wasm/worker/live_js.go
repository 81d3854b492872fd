//go:build js && wasm

package main

import (
	"fmt"
	"syscall/js"

	"github.com/bagnetweb/bagnet/protocol"
)

// onLive classifies a live camera frame (protocol.LiveRequest) and answers
// with a protocol.LiveReply and the top class's evidence map.
func (w *worker) onLive(id *int, raw []byte, msg js.Value) error {
	received := epochMs()
	req := protocol.LiveRequest{TopK: 5}
	if _, err := readRequest(protocol.KindLive, id, raw, &req); err != nil {
		return err
	}
	w.startRequest()
	rgba := bytesOf(msg.Get(protocol.FieldInput))
	if rgba == nil {
		return fmt.Errorf("live: no frame pixels")
	}
	r, ev, err := w.live(rgba, req.Size, req.TopK, epochMs)
	if err != nil {
		return err
	}
	r.ID = id
	r.Times.Received, r.Times.Posted = received, epochMs()
	return postWith(r, protocol.FieldEvidence, float32Array(ev))
}

var jsPerformance = global.Get("performance")

// epochMs is performance.timeOrigin + performance.now(): milliseconds on a
// clock the page and its workers share (protocol.LiveTimes).
func epochMs() float64 {
	return jsPerformance.Get("timeOrigin").Float() + jsPerformance.Call("now").Float()
}
