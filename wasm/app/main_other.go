//go:build !(js && wasm)

package main

import (
	"fmt"
	"os"
)

// main explains that the app only runs in a browser; the native build
// exists so that `go build ./...` and `go vet ./...` cover this package.
func main() {
	fmt.Fprintln(os.Stderr, "app: the page's UI; build it with GOOS=js GOARCH=wasm (see cmd/mksite)")
	os.Exit(2)
}
