// Package promise waits for JavaScript promises from Go (js/wasm only): the
// page's UI and the worker both block goroutines on browser APIs that
// return promises.
package promise
