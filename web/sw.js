// Service worker: after one visit the page works offline. Every asset is
// precached under a cache name that changes with their contents (mksite
// writes VERSION and ASSETS); assets are served cache-first; old caches are
// deleted when a new version activates. Only same-origin GETs are handled.
// The model picker's other models (models/...) are not precached: each is
// stored in the same cache the first time it is downloaded.
'use strict';
const VERSION = '{{.Version}}';
const ASSETS = {{.Assets}};
const CACHE = `bagnet-${VERSION}`;

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(ASSETS.map((a) => new Request(a, {cache: 'reload'})));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key.startsWith('bagnet-') && key !== CACHE) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

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
    // A picked model is stored as it streams to the page (whose download
    // progress stays live), unless the offline copy was cleared.
    if (resp.ok && new URL(req.url).pathname.includes('/models/') && await caches.has(CACHE)) {
      const copy = resp.clone(); // before the page starts reading the body
      event.waitUntil(caches.open(CACHE).then((c) => c.put(req, copy)));
    }
    return resp;
  })());
});
