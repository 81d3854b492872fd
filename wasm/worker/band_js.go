//go:build js && wasm

package main

import (
	"errors"
	"fmt"
	"time"

	"syscall/js"

	"github.com/bagnetweb/bagnet/protocol"
)

// helper is a band worker: another worker.js + worker.wasm, started by this
// worker, with its own Go instance, kernel module and copy of the model. It
// computes blocks of the int8 feature map (engine.Helper).
//
// Deadlines: a helper does not keep its own timer per block. The server
// fixes one deadline per request (server.startRequest; while a model
// loads, one for loading every helper and the warm-up pass together), and
// every wait a helper returns gives up at that deadline. So whether the
// engine waits on its helpers one after another or all at once, k hung
// helpers cost the request one deadline, not k; a helper that misses it
// is terminated and its block recomputed by the engine (engine.Helper).
type helper struct {
	w       js.Value
	due     *time.Time // the deadline of the request being served (server.due)
	next    int
	pending map[int]chan reply
	ready   chan error
	dead    error
	funcs   []js.Func
}

type reply struct {
	data []uint8
	err  error
}

// startHelpers starts n band workers with this worker's options (role
// "band"). They boot while the model downloads. due points at the server's
// deadline of the request being served (see helper).
func startHelpers(n int, due *time.Time) []*helper {
	opts := object()
	if name := global.Get("name"); name.Type() == js.TypeString && name.String() != "" {
		if v, err := parseJSON(name.String()); err == nil && v.Type() == js.TypeObject {
			opts = v
		}
	}
	opts.Set("role", "band")
	opts.Set("workers", 1)
	name := jsJSON.Call("stringify", opts).String()
	var hs []*helper
	for i := 0; i < n; i++ {
		h := &helper{due: due, pending: map[int]chan reply{}, ready: make(chan error, 1)}
		w, err := newWorker(name)
		if err != nil {
			fmt.Printf("worker: cannot start band worker %d: %v\n", i+1, err)
			break
		}
		h.w = w
		onMsg := js.FuncOf(func(_ js.Value, a []js.Value) any { h.onMessage(a[0].Get("data")); return nil })
		onErr := js.FuncOf(func(_ js.Value, a []js.Value) any {
			msg := "failed"
			if len(a) > 0 && a[0].Get("message").Type() == js.TypeString {
				msg = a[0].Get("message").String()
			}
			h.die(fmt.Errorf("band worker: %s", msg))
			return nil
		})
		h.funcs = []js.Func{onMsg, onErr}
		w.Set("onmessage", onMsg)
		w.Set("onerror", onErr)
		hs = append(hs, h)
	}
	return hs
}

func parseJSON(s string) (v js.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return jsJSON.Call("parse", s), nil
}

func newWorker(name string) (w js.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	opts := object()
	opts.Set("name", name)
	return global.Get("Worker").New("worker.js", opts), nil
}

func (h *helper) onMessage(m js.Value) {
	id := -1
	if v := m.Get("id"); v.Type() == js.TypeNumber {
		id = v.Int()
	}
	switch m.Get("type").String() {
	case "ready":
		select {
		case h.ready <- nil:
		default:
		}
	case "rows":
		h.answer(id, reply{data: bytesOf(m.Get("data"))})
	case "error":
		err := errors.New(m.Get("message").String())
		if id < 0 {
			h.die(err)
			return
		}
		h.answer(id, reply{err: err})
	}
}

func (h *helper) answer(id int, r reply) {
	if ch, ok := h.pending[id]; ok {
		delete(h.pending, id)
		ch <- r
	}
}

// die marks the helper dead: everything pending and everything later fails
// at once; the worker is terminated.
func (h *helper) die(err error) {
	if h.dead != nil {
		return
	}
	h.dead = err
	select {
	case h.ready <- err:
	default:
	}
	for id, ch := range h.pending {
		delete(h.pending, id)
		ch <- reply{err: err}
	}
	h.w.Call("terminate")
	for _, f := range h.funcs {
		f.Release()
	}
}

// load hands the helper the model file's bytes (a copy); wait for its
// answer with the returned function, which gives up at the deadline the
// server set for the load (*h.due when load is called).
func (h *helper) load(model []byte) func() error {
	if h.dead != nil {
		return func() error { return h.dead }
	}
	b := uint8Array(model)
	msg := object()
	msg.Set("type", "loadBytes")
	msg.Set("bytes", b)
	h.w.Call("postMessage", msg, jsArray.New(b.Get("buffer")))
	due := *h.due
	return func() error {
		if err, ok := awaitBy(h.ready, due); ok {
			return err
		}
		err := errors.New("band worker: no answer while loading the model, within the load's deadline")
		h.die(err)
		return err
	}
}

// Start implements engine.Helper. The returned wait gives up at the
// deadline of the request during which Start was called (*h.due, fixed
// when the request started, the same for every helper), not at a timer of
// its own: see helper.
func (h *helper) Start(rgb []uint8, rows, cols [2]int) func() ([]uint8, error) {
	if h.dead != nil {
		return func() ([]uint8, error) { return nil, h.dead }
	}
	id := h.next
	h.next++
	ch := make(chan reply, 1)
	h.pending[id] = ch
	b := uint8Array(rgb)
	msg := object()
	msg.Set("type", "rows")
	msg.Set("id", id)
	msg.Set("rgb", b)
	msg.Set("r0", rows[0])
	msg.Set("r1", rows[1])
	msg.Set("c0", cols[0])
	msg.Set("c1", cols[1])
	h.w.Call("postMessage", msg, jsArray.New(b.Get("buffer")))
	due := *h.due
	if due.IsZero() { // no request started (cannot happen: handle starts one)
		due = time.Now().Add(protocol.HelperFloor)
	}
	return func() ([]uint8, error) {
		if r, ok := awaitBy(ch, due); ok {
			return r.data, r.err
		}
		err := errors.New("band worker: no answer within the request's deadline")
		h.die(err)
		return nil, err
	}
}
