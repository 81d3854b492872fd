// Service worker: after one visit the page works offline, and a page only
// ever runs the files of its own version.
//
// mksite writes VERSION (a hash of every asset) and, for each asset, the
// SHA-256 of the bytes this version was built with: ASSETS (precached at
// install) and LAZY (the model picker's other models, models/..., stored
// the first time they are downloaded). Install fetches every asset and
// checks its hash before anything is cached: a deploy caught half-way (this
// sw.js new, some asset still old) fails to install, and the version in use
// stays. A new version does not take over open pages: it waits until the
// page, told "A new version is ready" (web/app.js), asks for it (and only
// when no other tab of the site is open), then the page reloads. Assets are
// served cache-first from this version's cache; old caches are deleted
// when a new version activates. Only same-origin GETs are handled.
'use strict';
const VERSION = '{{.Version}}';
const ASSETS = {{.Assets}};
const LAZY = {{.Lazy}};
const CACHE = `bagnet-${VERSION}`;

const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
const sha256 = async (bytes) => hex(await crypto.subtle.digest('SHA-256', bytes));

// The path of a URL relative to the service worker's scope ("models/x").
const scopePath = (url) => {
  const scope = new URL(self.registration.scope).pathname;
  const p = new URL(url).pathname;
  return p.startsWith(scope) ? decodeURIComponent(p.slice(scope.length)) : null;
};

// mismatch is the error of a file whose bytes are not this version's.
const mismatch = (path, got, want) => new Error(
  `${path}: the server's file (SHA-256 ${got.slice(0, 12)}…) is not the one version ${VERSION} was built with (${want.slice(0, 12)}…): a deploy is under way or incomplete`);

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    // Fetch and check everything first; cache only a complete version.
    const checked = await Promise.all(Object.entries(ASSETS).map(async ([path, want]) => {
      const resp = await fetch(new Request(path, {cache: 'no-cache'}));
      if (!resp.ok) throw new Error(`${path}: HTTP ${resp.status}`);
      const copy = resp.clone();
      const got = await sha256(await resp.arrayBuffer());
      if (got !== want) throw mismatch(path, got, want);
      return [path, copy];
    }));
    const cache = await caches.open(CACHE);
    try {
      for (const [path, resp] of checked) await cache.put(path, resp);
    } catch (e) {
      await caches.delete(CACHE); // never half a version
      throw e;
    }
    // No skipWaiting: pages open on the version in use keep it (see
    // 'message' below).
  })());
});

// The user's own models are not in a cache but in IndexedDB
// (ui/modelstore.go): this cleanup, and the page's "Clear the offline
// copy", leave them alone.
self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith('bagnet-') && key !== CACHE) await caches.delete(key);
    }
  })());
});

self.addEventListener('message', (event) => {
  const m = event.data || {};
  if (m.type === 'claim' && m.version === VERSION) {
    // A page loaded from the network, of this very version, on the first
    // visit: control it (its later fetches are the same files).
    event.waitUntil(self.clients.claim());
  } else if (m.type === 'activate') {
    // A page asks for this waiting version (its user chose to reload).
    // Only when it is the site's one tab: another tab open on the old
    // version would otherwise be switched to this one's files.
    event.waitUntil((async () => {
      const tabs = await self.clients.matchAll({type: 'window', includeUncontrolled: true});
      if (tabs.length <= 1) {
        await self.skipWaiting();
        event.source?.postMessage({type: 'activating', version: VERSION});
      } else {
        event.source?.postMessage({type: 'other-tabs', tabs: tabs.length, version: VERSION});
      }
    })());
  }
});

// verified streams resp (the picker's model at path) to the page while
// keeping its bytes; at the end it checks them against this version's hash:
// on a mismatch the page's download fails (and nothing is stored), else
// they are stored, unless the offline copy was cleared.
const verified = (event, path, want, resp) => {
  const chunks = [];
  let stored;
  const done = new Promise((resolve) => { stored = resolve; });
  event.waitUntil(done);
  const headers = new Headers(resp.headers);
  headers.delete('content-encoding'); // the body is decoded already
  headers.delete('content-length');
  const body = resp.body.pipeThrough(new TransformStream({
    transform(chunk, ctl) {
      chunks.push(chunk);
      ctl.enqueue(chunk);
    },
    async flush(ctl) {
      try {
        const all = await new Blob(chunks).arrayBuffer();
        const got = await sha256(all);
        if (got !== want) {
          ctl.error(mismatch(path, got, want));
          return;
        }
        if (await caches.has(CACHE)) {
          await (await caches.open(CACHE)).put(path, new Response(all, {status: resp.status, headers}));
        }
      } finally {
        stored();
      }
    },
  }));
  return new Response(body, {status: resp.status, statusText: resp.statusText, headers});
};

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET' || new URL(req.url).origin !== self.location.origin) return;
  event.respondWith((async () => {
    // caches.match, not caches.open: looking must not recreate a cache the
    // page cleared ("Clear the offline copy").
    let hit = await caches.match(req, {ignoreSearch: true, cacheName: CACHE});
    if (!hit && req.mode === 'navigate') hit = await caches.match('index.html', {cacheName: CACHE});
    if (hit) return hit;
    const resp = await fetch(req);
    const path = scopePath(req.url);
    const want = path !== null && Object.hasOwn(LAZY, path) ? LAZY[path] : null;
    if (want && resp.ok && resp.body) return verified(event, path, want, resp);
    return resp;
  })());
});
