// Runs a js/wasm Go test binary under Node (as Go's wasm_exec_node.js) with
// the SIMD kernel module instantiated on Go's memory, in the order the page
// uses: compile the kernel, instantiate Go, instantiate the kernel on Go's
// memory, then run Go. BAGNET_SIMD_WASM=none runs without it.
'use strict';
const fs = require('fs');
const path = require('path');
globalThis.require = require;
globalThis.fs = fs;
globalThis.path = path;
globalThis.TextEncoder = require('util').TextEncoder;
globalThis.TextDecoder = require('util').TextDecoder;
globalThis.performance ??= require('performance');
globalThis.crypto ??= require('crypto');
require(path.join(process.env.BAGNET_GOROOT, 'lib', 'wasm', 'wasm_exec.js'));

const go = new Go();
go.argv = process.argv.slice(2);
go.env = Object.assign({TMPDIR: require('os').tmpdir()}, process.env);
go.exit = process.exit;
const simdPath = process.env.BAGNET_SIMD_WASM;
const kernel = simdPath && simdPath !== 'none' ? new WebAssembly.Module(fs.readFileSync(simdPath)) : null;
WebAssembly.instantiate(fs.readFileSync(process.argv[2]), go.importObject).then((result) => {
  if (kernel) {
    globalThis.bagnetSIMD = new WebAssembly.Instance(kernel, {env: {memory: result.instance.exports.mem}}).exports;
  }
  process.on('exit', (code) => {
    if (code === 0 && !go.exited) {
      go._pendingEvent = {id: 0};
      go._resume();
    }
  });
  return go.run(result.instance);
}).catch((err) => {
  console.error(err);
  process.exit(1);
});
