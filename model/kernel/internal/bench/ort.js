// Times onnxruntime-node on one ONNX model, one image (1x3xSxS, random), one
// intra-op thread, and prints the runs as Go benchmark lines
// (BenchmarkORT/<name>/1 1 <ns> ns/op) for make bench's summary.
//
//   node ort.js <node_modules dir> <model.onnx> <name> <size> <runs>
const path = require("path");
const [dir, model, name, size, runs] = process.argv.slice(2);
const ort = require(path.resolve(dir, "onnxruntime-node"));

(async () => {
  const s = Number(size);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential",
    graphOptimizationLevel: "all",
  });
  const data = new Float32Array(3 * s * s);
  let seed = 5;
  for (let i = 0; i < data.length; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    data[i] = (seed / 2 ** 32 - 0.5) * 4;
  }
  const feeds = { [session.inputNames[0]]: new ort.Tensor("float32", data, [1, 3, s, s]) };
  await session.run(feeds); // warm-up
  for (let i = 0; i < Number(runs); i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    const ns = Number(process.hrtime.bigint() - t0);
    console.log(`BenchmarkORT/${name}/1 \t1\t${ns} ns/op`);
  }
})().catch((e) => { console.error(`ort.js: ${e.message}`); process.exit(1); });
