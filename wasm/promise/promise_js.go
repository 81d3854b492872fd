//go:build js && wasm

package promise

import (
	"fmt"
	"syscall/js"
)

// Await blocks the calling goroutine until p (a promise, or any value,
// which counts as resolved) settles, and returns its value or, if it is
// rejected, an error with the reason's text ("rejected" without one). It
// must not be called where the JavaScript event loop waits for the caller
// (a js.FuncOf callback): the promise could never settle.
func Await(p js.Value) (js.Value, error) {
	type settled struct {
		v   js.Value
		err error
	}
	ch := make(chan settled, 1)
	ok := js.FuncOf(func(_ js.Value, a []js.Value) any { ch <- settled{v: a[0]}; return nil })
	fail := js.FuncOf(func(_ js.Value, a []js.Value) any {
		msg := "rejected"
		if len(a) > 0 {
			msg = a[0].Call("toString").String()
		}
		ch <- settled{err: fmt.Errorf("%s", msg)}
		return nil
	})
	defer ok.Release()
	defer fail.Release()
	js.Global().Get("Promise").Call("resolve", p).Call("then", ok, fail)
	r := <-ch
	return r.v, r.err
}
