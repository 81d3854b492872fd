// The page's boot glue: start the inference worker and the model download
// right away, show download progress until the Go UI (app.wasm) runs, then
// hand the worker and its messages over to Go. Everything else is Go.
// The worker's messages are defined in Go, in package protocol
// (protocol/message.go); this glue cannot import it and spells only these of
// its names: the worker's options (protocol.Options: wasm, bytes, simd,
// failBands, testHooks, hangBands, workers), the first protocol.LoadRequest
// {type: 'load', url, size}, a protocol.Progress's type, what, loaded and
// total, and a protocol.ErrorReply's type, message (and, for a worker that
// cannot start or dies, id: null, what: 'worker', dead).
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const site = JSON.parse($('site-info').textContent);
  const size = (f) => (site.sizes && site.sizes[f]) || 0;

  // The offline copy (web/sw.js). A new version, once installed and
  // checked, waits: this page keeps running its own version's files and
  // offers "A new version is ready — reload" (offerUpdate).
  const version = document.querySelector('meta[name="bagnet-version"]')?.content || '';
  if ('serviceWorker' in navigator && window.isSecureContext) {
    const sw = navigator.serviceWorker;
    sw.register('sw.js').then((reg) => {
      const waiting = (w) => { if (w && sw.controller) offerUpdate(w); };
      waiting(reg.waiting);
      reg.addEventListener('updatefound', () => {
        const w = reg.installing;
        w?.addEventListener('statechange', () => { if (w.state === 'installed') waiting(w); });
      });
      if (!sw.controller) {
        // First visit: this page came from the network. Its service
        // worker controls it only if it is of the same version.
        sw.ready.then((r) => r.active?.postMessage({type: 'claim', version}));
      }
      // Look for a new deploy when the page comes back into view.
      document.addEventListener('visibilitychange', () => {
        if (document.visibilityState === 'visible') reg.update().catch(() => {});
      });
    }).catch((e) => console.warn('service worker:', e));
  }

  // offerUpdate shows the banner that lets the user switch to the new
  // version w: it asks w to take over and reloads once it has.
  let banner = null;
  const offerUpdate = (w) => {
    if (!banner) {
      banner = document.createElement('div');
      banner.id = 'update';
      banner.className = 'update card';
      banner.setAttribute('role', 'status');
      Object.assign(banner.style, {position: 'sticky', top: '0', zIndex: '10', display: 'flex', gap: '1em', alignItems: 'center', margin: '0.5em auto', maxWidth: '60em'});
      banner.append(document.createElement('span'), document.createElement('button'));
      banner.lastChild.id = 'update-reload';
      banner.lastChild.type = 'button';
      banner.lastChild.className = 'button';
      banner.lastChild.textContent = 'Reload';
      document.body.prepend(banner);
    }
    banner.firstChild.textContent = 'A new version is ready — reload to use it.';
    banner.lastChild.disabled = false;
    banner.lastChild.onclick = () => {
      banner.lastChild.disabled = true;
      const sw = navigator.serviceWorker;
      const onMsg = (e) => {
        if (e.data?.type === 'other-tabs') {
          sw.removeEventListener('message', onMsg);
          banner.firstChild.textContent = `A new version is ready: close this site's other ${e.data.tabs - 1 === 1 ? 'tab' : `${e.data.tabs - 1} tabs`}, then reload.`;
          banner.lastChild.disabled = false;
        }
      };
      sw.addEventListener('message', onMsg);
      sw.addEventListener('controllerchange', () => location.reload(), {once: true});
      w.postMessage({type: 'activate'});
    };
  };

  // Messages from the worker wait here until the Go UI attaches; progress
  // keeps only its latest value per download.
  const pending = [];
  const latest = {};
  let listener = null;
  const deliver = (m) => {
    if (listener) return listener(m);
    if (m.type === 'progress') {
      latest[m.what] = m;
      show(m.what, m.loaded, m.total);
    } else {
      pending.push(m);
      if (m.type === 'error') fail(m.message);
    }
  };

  const show = (what, loaded, total) => {
    const bar = $(`boot-${what}`);
    if (!bar) return;
    if (total > 0) {
      bar.max = total;
      bar.value = Math.min(loaded, total);
    }
    const label = $(`boot-${what}-text`);
    if (label) label.textContent = mb(loaded) + (total > 0 ? ` / ${mb(total)}` : '');
  };
  const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
  const fail = (msg) => {
    if (listener) return;
    document.body.dataset.state = 'error';
    const e = $('error');
    e.hidden = false;
    e.textContent = msg;
  };

  // One worker per core (at most 4) splits each image into bands of rows;
  // ?workers=N chooses (1-8), ?simd=0 runs the pure-Go kernels instead of
  // WebAssembly SIMD (for comparisons and tests; the results are the same).
  const params = new URLSearchParams(location.search);
  const workerOpts = {wasm: 'worker.wasm', bytes: size('worker.wasm')};
  if (params.get('simd') === '0') workerOpts.simd = false;
  // ?failbands=N: band workers fail after N requests (tests of recovery).
  if (+params.get('failbands') > 0) workerOpts.failBands = +params.get('failbands');
  // ?testhooks=1 (tests only): the worker obeys "hang" and "crash"
  // messages, and ?hangbands=N makes its band workers hang after N
  // requests. Without it these messages and options do nothing.
  if (params.get('testhooks') === '1') {
    workerOpts.testHooks = true;
    if (+params.get('hangbands') > 0) workerOpts.hangBands = +params.get('hangbands');
  }
  // ?model=FILE.safetensors loads another model file of this site (tests).
  const model = params.get('model');
  if (model && /^[\w.-]+(\/[\w.-]+)*\.safetensors$/.test(model)) site.model = model;
  workerOpts.workers = Math.max(1, Math.min(+params.get('workers') || Math.min(navigator.hardwareConcurrency || 1, 4), 8));

  // start makes an inference worker; only the current one is heard (a
  // terminated worker's last messages are dropped).
  let worker = null;
  const start = () => {
    const w = new Worker('worker.js', {name: JSON.stringify(workerOpts)});
    w.onmessage = (e) => { if (w === worker) deliver(e.data); };
    w.onerror = (e) => {
      if (w !== worker) return;
      e.preventDefault();
      deliver({type: 'error', id: null, what: 'worker', dead: true, message: `inference worker: ${e.message || 'failed'}`});
    };
    worker = w;
    return w;
  };
  try {
    start().postMessage({type: 'load', url: site.model, size: size(site.model)});
  } catch (e) {
    deliver({type: 'error', id: null, what: 'worker', message: `cannot start a Web Worker: ${e.message || e}`});
  }

  // Read by wasm/app: the worker, the replay of early messages, the site
  // info, and restart: terminate the worker (hung or dead) and start a new
  // one, whose messages go to the same listener; it returns the new worker
  // (ui/link.go sends it the model in use).
  window.bagnetBoot = {
    worker,
    site,
    restart() {
      if (worker) worker.terminate();
      worker = null;
      this.worker = start();
      return this.worker;
    },
    attach(fn) {
      listener = fn;
      for (const m of Object.values(latest)) fn(m);
      for (const m of pending.splice(0)) fn(m);
    },
  };

  const go = new Go();
  bagnetLoadWasm('app.wasm', size('app.wasm'), go, (l, t) => show('app', l, t))
    .then(({instance}) => go.run(instance))
    .catch((e) => fail(`Could not start the app: ${e.message || e}`));
})();
