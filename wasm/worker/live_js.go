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
	req := protocol.LiveRequest{TopK: 5}
	if _, err := readRequest(protocol.KindLive, id, raw, &req); err != nil {
		return err
	}
	w.startRequest()
	rgba := bytesOf(msg.Get(protocol.FieldInput))
	if rgba == nil {
		return fmt.Errorf("live: no frame pixels")
	}
	r, ev, err := w.live(rgba, req.Size, req.TopK)
	if err != nil {
		return err
	}
	r.ID = id
	return postWith(r, protocol.FieldEvidence, float32Array(ev))
}
