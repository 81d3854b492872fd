package ui

import (
	"encoding/json"

	"github.com/vugu/vugu/js"

	"github.com/bagnetweb/bagnet/protocol"
)

// liveLink is Root's side of live mode: the answer awaited for the live
// frame in flight (at most one), and how often a live frame was sent while
// another was in flight (window.bagnetLiveOverlaps: 0 unless the page is
// wrong).
type liveLink struct {
	liveDone map[int]func(*protocol.LiveReply, []float32, string)
	overlaps int
	// liveQuiet: the message just applied was a live frame's answer that
	// updated the page itself (canvas, text), so the page is not rendered
	// again at the frame rate.
	liveQuiet bool
}

// LiveFrame sends a live camera frame (size x size RGBA pixels, a
// Uint8ClampedArray, transferred) to the worker if it is idle: no request
// in flight or waiting. It reports whether it did; a frame that finds the
// worker busy is dropped by the caller, never queued. done gets the answer.
func (c *Root) LiveFrame(rgba js.Value, size int, done func(*protocol.LiveReply, []float32, string)) bool {
	if c.Info == nil || c.inflight != 0 || len(c.queue) > 0 {
		return false
	}
	if len(c.liveDone) > 0 {
		c.overlaps++
		js.Global().Set("bagnetLiveOverlaps", c.overlaps)
	}
	id := c.reqs.add(protocol.KindLive, "the live frame")
	if c.liveDone == nil {
		c.liveDone = map[int]func(*protocol.LiveReply, []float32, string){}
	}
	c.liveDone[id] = done
	obj := message(&protocol.LiveRequest{Header: protocol.Header{Type: protocol.KindLive, ID: &id}, Size: size, TopK: TopK})
	setJS(obj, protocol.FieldInput, rgba)
	c.send(outgoing{id: id, kind: protocol.KindLive, msg: obj, transfer: js.Global().Get("Array").Call("of", rgba.Get("buffer"))})
	return true
}

// onLive hands a live frame's answer (or, with msg set, its failure) to
// whoever sent it.
func (c *Root) onLive(id int, raw []byte, m js.Value, msg string) {
	done := c.liveDone[id]
	delete(c.liveDone, id)
	c.forget(id)
	if done == nil {
		return
	}
	if msg != "" {
		done(nil, nil, msg)
		return
	}
	var r protocol.LiveReply
	if err := json.Unmarshal(raw, &r); err != nil {
		done(nil, nil, "unreadable answer: "+err.Error())
		return
	}
	done(&r, float32s(m.Get(protocol.FieldEvidence)), "")
	c.liveQuiet = len(c.queue) == 0 // else the next request goes, and the page shows it
}
