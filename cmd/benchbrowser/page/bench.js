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

// The baseline: onnxruntime-web (WASM SIMD, one thread, on this page's main
// thread) on the same network exported to ONNX, served under ort/.
window.bagnetRunORT = async ({runs}) => {
  if (!window.ort) {
    await new Promise((resolve, reject) => {
      const s = document.createElement('script');
      s.src = 'ort/ort.wasm.min.js';
      s.onload = resolve;
      s.onerror = () => reject(new Error('cannot load ort/ort.wasm.min.js'));
      document.head.appendChild(s);
    });
  }
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.wasm.wasmPaths = new URL('ort/', location.href).href;
  const t0 = performance.now();
  const session = await ort.InferenceSession.create('ort/bagnet33.onnx', {executionProviders: ['wasm'], graphOptimizationLevel: 'all'});
  const readyMs = performance.now() - t0;
  const data = new Float32Array(3 * 224 * 224);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin(i) * 2;
  const input = new ort.Tensor('float32', data, [1, 3, 224, 224]);
  const runsMs = [];
  for (let i = 0; i < runs + 1; i++) {
    const t = performance.now();
    await session.run({[session.inputNames[0]]: input});
    runsMs.push(performance.now() - t);
  }
  await session.release();
  return JSON.stringify({readyMs, runsMs, version: ort.env.versions ? ort.env.versions.web || '' : ''});
};
