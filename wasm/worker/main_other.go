//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

// main explains that the worker only runs in a browser; the native build
// exists so that `go build ./...` and `go vet ./...` cover this package.
func main() {
	fmt.Fprintln(os.Stderr, "worker: a Web Worker; build it with GOOS=js GOARCH=wasm (see cmd/mksite)")
	os.Exit(2)
}

// helper is a band worker; they exist only in the browser (band_js.go).
type helper struct{}
