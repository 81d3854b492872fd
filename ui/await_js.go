//go:build js && wasm

package ui

import (
	sjs "syscall/js"

	"github.com/bagnetweb/bagnet/wasm/promise"
	"github.com/vugu/vugu/js"
)

// await blocks the calling goroutine (never an event handler: they hold the
// render lock) until the promise settles (promise.Await; vugu's js.Value is
// syscall/js's under another name).
func await(p js.Value) (js.Value, error) {
	v, err := promise.Await(sjs.Value(p))
	return js.Value(v), err
}
