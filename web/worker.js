// The inference worker's glue: load worker.wasm (Go) and hand it the page's
// messages. Messages that arrive before Go is running are queued in order.
// The messages are defined in Go, in package protocol (protocol/message.go);
// this glue cannot import it and spells only these of its names: the
// options in its name (protocol.Options: wasm, bytes, simd, simdWasm) and
// the two messages it posts itself, a protocol.Progress {type: 'progress',
// what: 'worker', loaded, total} and a protocol.ErrorReply {type: 'error',
// id: null, what: 'worker', dead: true, message} when Go is gone.
'use strict';
importScripts('wasm_exec.js', 'load-wasm.js');

const queue = [];
let handler = null;
self.onmessage = (e) => (handler ? handler(e.data) : queue.push(e.data));

// Called by worker.wasm's main once it listens.
self.bagnetWorkerReady = (h) => {
  handler = h;
  for (const m of queue.splice(0)) h(m);
};

// The WebAssembly SIMD kernel module (wasm/simd): fetched and compiled
// beside worker.wasm, instantiated on Go's memory before Go runs, and handed
// to Go as self.bagnetSIMD. Without it (no SIMD128 in this browser, turned
// off, or it failed to load) Go runs its pure-Go kernels, with the same
// results; self.bagnetSIMDStatus says why.
async function compileSIMD(opts) {
  if (opts.simd === false) {
    self.bagnetSIMDStatus = 'turned off';
    return null;
  }
  try {
    const resp = await fetch(opts.simdWasm || 'simd.wasm');
    if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
    const bytes = await resp.arrayBuffer();
    if (!WebAssembly.validate(bytes)) {
      self.bagnetSIMDStatus = 'not supported by this browser';
      return null;
    }
    return await WebAssembly.compile(bytes);
  } catch (err) {
    self.bagnetSIMDStatus = `could not be loaded (${err.message || err})`;
    return null;
  }
}

(async () => {
  let opts = {};
  try { opts = JSON.parse(self.name || '{}'); } catch (_) { /* defaults */ }
  const url = opts.wasm || 'worker.wasm';
  const simd = compileSIMD(opts);
  const go = new Go();
  let exitCode = 0;
  go.exit = (code) => { exitCode = code; };
  let last = 0;
  const progress = (loaded, total) => {
    const now = Date.now();
    if (now - last < 50 && loaded < total) return;
    last = now;
    self.postMessage({type: 'progress', what: 'worker', loaded, total});
  };
  try {
    const {instance} = await bagnetLoadWasm(url, opts.bytes, go, progress);
    const kernel = await simd;
    if (kernel) {
      try {
        self.bagnetSIMD = (await WebAssembly.instantiate(kernel, {env: {memory: instance.exports.mem}})).exports;
      } catch (err) {
        self.bagnetSIMDStatus = `could not be started (${err.message || err})`;
      }
    }
    await go.run(instance);
    // Go exited (a fatal error: out of memory, a panic): this worker is
    // dead. The page restarts it (ui/link.go).
    self.postMessage({type: 'error', id: null, what: 'worker', dead: true, message: `the inference worker stopped (exit code ${exitCode})`});
  } catch (err) {
    // A trap while running (unreachable, out of memory) lands here too.
    self.postMessage({type: 'error', id: null, what: 'worker', dead: true, message: `the inference worker failed: ${err.message || err}`});
  }
})();
