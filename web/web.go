// Package web holds the page's static sources (HTML and service-worker
// templates, CSS, the JavaScript glue, the manifest and icon), embedded for
// cmd/mksite, which renders them into the static site.
package web

import "embed"

// Files are the web sources. index.html and sw.js are templates (see
// cmd/mksite); the rest are copied as they are.
//
//go:embed index.html sw.js app.js worker.js load-wasm.js style.css manifest.webmanifest icon.svg
var Files embed.FS
