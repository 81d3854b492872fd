//go:build !(js && wasm)

package ui

import (
	"errors"

	"github.com/vugu/vugu/js"
)

// await fails outside a browser: there are no promises to wait for.
func await(js.Value) (js.Value, error) {
	return js.Value{}, errors.New("ui: no JavaScript promises outside a browser")
}
