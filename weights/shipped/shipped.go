// Package shipped holds the default model, embedded in the programs that
// import it (the bagnet command), so a copied or `go install`ed binary
// classifies anywhere, offline, with no model file beside it.
//
// The browser app does not import this package: the page downloads the
// model file itself, so the WebAssembly binaries stay small.
package shipped

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"sync"
)

// File is the name of the embedded model file in this directory
// (weights/shipped/ in the repository).
const File = "bagnet33_imagenette_int8.safetensors"

// Path is the embedded file's path relative to the repository root.
const Path = "weights/shipped/" + File

//go:embed bagnet33_imagenette_int8.safetensors
var model []byte

// Model returns the bytes of the default model file (int8). The slice is
// shared: callers must not modify it.
func Model() []byte { return model }

var sum = sync.OnceValue(func() string {
	s := sha256.Sum256(model)
	return hex.EncodeToString(s[:])
})

// SHA256 is the hex SHA-256 of Model().
func SHA256() string { return sum() }
