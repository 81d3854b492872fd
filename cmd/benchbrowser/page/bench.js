// The browser benchmark: start the page's inference worker (web/worker.js)
// in one configuration, load a model, and run the worker's "bench" request.
// cmd/benchbrowser calls bagnetRunBench once per configuration.
'use strict';
window.bagnetRunBench = async ({model, simd, workers, runs}) => {
  const t0 = performance.now();
  const w = new Worker('worker.js', {name: JSON.stringify({wasm: 'worker.wasm', simd, workers})});
  const next = (want) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out')), 600000);
    w.onmessage = (e) => {
      const m = e.data;
      if (m.type === 'error') {
        clearTimeout(timer);
        reject(new Error(`${m.what}: ${m.message}`));
      } else if (want(m)) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    w.onerror = (e) => {
      clearTimeout(timer);
      reject(new Error(e.message || 'worker failed'));
    };
  });
  try {
    w.postMessage({type: 'load', url: model});
    const ready = await next((m) => m.type === 'ready');
    const readyMs = performance.now() - t0;
    w.postMessage({type: 'bench', id: 1, runs});
    const b = await next((m) => m.type === 'bench' && m.id === 1);
    return JSON.stringify({readyMs, warmupMs: ready.info.warmupMs, bench: b.bench});
  } finally {
    w.terminate();
  }
};
