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
    const cache = await caches.open(CACHE);
    let hit = await cache.match(req, {ignoreSearch: true});
    if (!hit && req.mode === 'navigate') hit = await cache.match('index.html');
    if (hit) return hit;
    const resp = await fetch(req);
    // Stored as it streams to the page (whose download progress stays live).
    if (resp.ok && new URL(req.url).pathname.includes('/models/')) event.waitUntil(cache.put(req, resp.clone()));
    return resp;
  })());
});
