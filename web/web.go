// Package web holds the page's static sources (HTML and service-worker
// templates, CSS, the JavaScript glue, the manifest and icon), embedded for
// cmd/mksite, which renders them into the static site.
package web

import "embed"

// CSP is the page's Content-Security-Policy, the one definition of it:
// only this origin, WebAssembly compilation but no eval and no inline
// scripts. cmd/mksite writes it into index.html's <meta> tag, so it holds
// on any host; server/static sends HeaderCSP.
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; " +
	"connect-src 'self'; img-src 'self' blob: data:; style-src 'self' 'unsafe-inline'; " +
	"object-src 'none'; base-uri 'self'"

// HeaderCSP is CSP as an HTTP header, with the directive a <meta> tag
// cannot carry: no framing by other sites.
const HeaderCSP = CSP + "; frame-ancestors 'none'"

// Files are the web sources. index.html and sw.js are templates (see
// cmd/mksite); the rest are copied as they are.
//
//go:embed index.html sw.js app.js worker.js load-wasm.js style.css manifest.webmanifest icon.svg
var Files embed.FS
