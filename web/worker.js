// The inference worker's glue: load worker.wasm (Go) and hand it the page's
// messages. Messages that arrive before Go is running are queued in order.
// The protocol is described in wasm/worker/protocol.md.
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

(async () => {
  let opts = {};
  try { opts = JSON.parse(self.name || '{}'); } catch (_) { /* defaults */ }
  const url = opts.wasm || 'worker.wasm';
  const go = new Go();
  let last = 0;
  const progress = (loaded, total) => {
    const now = Date.now();
    if (now - last < 50 && loaded < total) return;
    last = now;
    self.postMessage({type: 'progress', what: 'worker', loaded, total});
  };
  try {
    const {instance} = await bagnetLoadWasm(url, opts.bytes, go, progress);
    await go.run(instance);
    self.postMessage({type: 'error', id: null, what: 'worker', message: 'the inference worker stopped'});
  } catch (err) {
    self.postMessage({type: 'error', id: null, what: 'worker', message: `could not start the inference worker: ${err.message || err}`});
  }
})();
