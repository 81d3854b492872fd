//go:build js && wasm

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"syscall/js"

	"github.com/bagnetweb/bagnet/protocol"
	"github.com/bagnetweb/bagnet/teach"
)

// helper is a band worker: another worker.js + worker.wasm, started by this
// worker, with its own Go instance, kernel module and copy of the model. It
// computes blocks of the int8 feature map (engine.Helper).
//
// Deadlines: a helper does not keep its own timer per block. The inference
// worker fixes one deadline per request (worker.startRequest; while a model
// loads, one for loading every helper and the warm-up pass together), and
// every wait a helper returns gives up at that deadline. So whether the
// engine waits on its helpers one after another or all at once, k hung
// helpers cost the request one deadline, not k; a helper that misses it
// is terminated and its block recomputed by the engine (engine.Helper).
type helper struct {
	w       js.Value
	due     *time.Time // the deadline of the request being served (worker.due)
	next    int
	pending map[int]chan reply
	ready   chan error
	dead    error
	funcs   []js.Func
}

type reply struct {
	data []uint8
	raw  []byte // a PoolReply's JSON
	err  error
}

// startHelpers starts n band workers with this worker's options (role
// "band"). They boot while the model downloads. due points at the worker's
// deadline of the request being served (see helper).
func startHelpers(n int, due *time.Time) []*helper {
	opts := namedOptions()
	opts.Role, opts.Workers = protocol.RoleBand, 1
	b, err := json.Marshal(opts)
	if err != nil {
		fmt.Printf("worker: cannot start band workers: %v\n", err)
		return nil
	}
	name := string(b)
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
	var e protocol.ErrorReply // the fields of every message a band worker sends
	if err := json.Unmarshal(jsonPart(m), &e); err != nil {
		h.die(fmt.Errorf("band worker: unreadable message: %v", err))
		return
	}
	id := e.IDOr(-1)
	switch e.Type {
	case protocol.KindReady:
		select {
		case h.ready <- nil:
		default:
		}
	case protocol.KindRows:
		h.answer(id, reply{data: bytesOf(m.Get(protocol.FieldData))})
	case protocol.KindPool, protocol.KindPatches:
		h.answer(id, reply{raw: jsonPart(m)})
	case protocol.KindError:
		err := errors.New(e.Message)
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
// worker set for the load (*h.due when load is called).
func (h *helper) load(model []byte) func() error {
	if h.dead != nil {
		return func() error { return h.dead }
	}
	msg, err := message(&protocol.Header{Type: protocol.KindLoadBytes})
	if err != nil {
		return func() error { return err }
	}
	b := uint8Array(model)
	msg.Set(protocol.FieldBytes, b)
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
	due := *h.due
	if due.IsZero() { // no request started (cannot happen: handle starts one)
		due = time.Now().Add(protocol.HelperFloor)
	}
	b := uint8Array(rgb)
	return ask(h, func(id int) (js.Value, error) {
		msg, err := message(&protocol.RowsRequest{Header: protocol.Header{Type: protocol.KindRows, ID: &id},
			R0: rows[0], R1: rows[1], C0: cols[0], C1: cols[1]})
		if err == nil {
			msg.Set(protocol.FieldRGB, b)
		}
		return msg, err
	}, b, due, func(r reply) ([]uint8, error) { return r.data, nil })
}

// pool implements pooler: the band worker computes the teaching example
// of a whole encoded image. The returned wait gives up at due; a helper
// that misses it is terminated.
func (h *helper) pool(img []byte, due time.Time) func() (teach.Example, error) {
	b := uint8Array(img)
	return ask(h, func(id int) (js.Value, error) {
		msg, err := message(&protocol.PoolRequest{Header: protocol.Header{Type: protocol.KindPool, ID: &id}})
		if err == nil {
			msg.Set(protocol.FieldBytes, b)
		}
		return msg, err
	}, b, due, func(r reply) (teach.Example, error) {
		var p protocol.PoolReply
		if err := json.Unmarshal(r.raw, &p); err != nil {
			return teach.Example{}, fmt.Errorf("band worker: unreadable example: %v", err)
		}
		return teach.Example{Image: teach.Pooled{Sum: p.Image, Cells: p.Cells}, Flip: teach.Pooled{Sum: p.Flip, Cells: p.Cells}}, nil
	})
}

// patches implements patcher: the band worker computes the result of a
// whole encoded image (a protocol.PatchesRequest of one image). The
// returned wait gives up at due; a helper that misses it is terminated.
func (h *helper) patches(img []byte, topK, k int, due time.Time) func() (protocol.PatchesImage, error) {
	b := uint8Array(img)
	return ask(h, func(id int) (js.Value, error) {
		msg, err := message(&protocol.PatchesRequest{Header: protocol.Header{Type: protocol.KindPatches, ID: &id}, TopK: topK, Patches: k})
		if err == nil {
			msg.Set(protocol.FieldBytes, jsArray.New(b.Get("buffer")))
		}
		return msg, err
	}, b, due, func(r reply) (protocol.PatchesImage, error) {
		var p protocol.PatchesReply
		if err := json.Unmarshal(r.raw, &p); err != nil || len(p.Images) != 1 {
			return protocol.PatchesImage{}, fmt.Errorf("band worker: unreadable results (%v)", err)
		}
		return p.Images[0], nil
	})
}

// ask posts the request build makes for the helper's next id, data's
// buffer transferred, and returns a wait for its answer, decoded by
// decode. The wait gives up at due, and a helper that misses it is
// terminated.
func ask[T any](h *helper, build func(id int) (js.Value, error), data js.Value, due time.Time, decode func(reply) (T, error)) func() (T, error) {
	var zero T
	if h.dead != nil {
		return func() (T, error) { return zero, h.dead }
	}
	id := h.next
	msg, err := build(id)
	if err != nil {
		return func() (T, error) { return zero, err }
	}
	h.next++
	ch := make(chan reply, 1)
	h.pending[id] = ch
	h.w.Call("postMessage", msg, jsArray.New(data.Get("buffer")))
	return func() (T, error) {
		r, ok := awaitBy(ch, due)
		if !ok {
			err := errors.New("band worker: no answer within the request's deadline")
			h.die(err)
			return zero, err
		}
		if r.err != nil {
			return zero, r.err
		}
		return decode(r)
	}
}
