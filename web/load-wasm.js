// Shared by the page (app.js) and the inference worker (worker.js): fetch a
// Go WebAssembly module, report download progress, and instantiate it.
'use strict';

/**
 * Fetches url, calling onProgress(loaded, total) as bytes arrive, and
 * instantiates it with go.importObject. bytes is the uncompressed size
 * (Content-Length counts compressed bytes when the server compresses).
 * Streams into the compiler when the server sends application/wasm.
 */
async function bagnetLoadWasm(url, bytes, go, onProgress) {
  const resp = await fetch(url);
  if (!resp.ok) throw new Error(`${url}: HTTP ${resp.status} ${resp.statusText}`);
  let total = bytes || 0;
  if (!total && !resp.headers.get('content-encoding')) total = +resp.headers.get('content-length') || 0;
  let loaded = 0;
  onProgress(0, total);
  const counted = resp.body ? resp.body.pipeThrough(new TransformStream({
    transform(chunk, ctl) {
      loaded += chunk.byteLength;
      onProgress(loaded, total);
      ctl.enqueue(chunk);
    },
  })) : null;
  const type = (resp.headers.get('content-type') || '').split(';')[0].trim();
  if (counted && type === 'application/wasm' && WebAssembly.instantiateStreaming) {
    const streamed = new Response(counted, {headers: {'Content-Type': 'application/wasm'}});
    return WebAssembly.instantiateStreaming(streamed, go.importObject);
  }
  const buf = counted ? await new Response(counted).arrayBuffer() : await resp.arrayBuffer();
  onProgress(buf.byteLength, total || buf.byteLength);
  return WebAssembly.instantiate(buf, go.importObject);
}
