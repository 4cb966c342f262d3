// ort.js - the ONNX Runtime side of `make bench` (bench/run.py), a server on stdin/stdout.
//
// One JSON request per line, one JSON reply per line:
//   {"op": "version"}                                   -> {"ort": "1.30.0", "node": "v20..."}
//   {"op": "time", "model": M, "threads": T, "runs": R} -> {"times_ms": [...]} (after one warm-up run)
//   {"op": "release"}                                   -> {}: drops every cached session
//   {"op": "run", "model": M, "threads": T, "input": IN, "output": OUT}
//                                                       -> {"shape": [...]}: IN and OUT are raw
//                                                          little-endian float32 files
// A model's input is its only input, shaped as the ONNX graph says (batch 1); timed runs use
// uniform(-1, 1) values. Sessions are cached per (model, threads): intra-op threads T, one
// inter-op thread, sequential execution, every graph optimisation (ORT's defaults otherwise).
//
// One-shot modes for bench/run.py's peak RSS measurement (the process's ru_maxrss is what
// is measured, so these do nothing else and exit):
//   node ort.js --once MODEL THREADS   create the session, run one inference, exit
//   node ort.js --baseline             load onnxruntime-node, create no session, exit
'use strict';
const fs = require('fs');
const path = require('path');
const readline = require('readline');
const ort = require('onnxruntime-node');

const sessions = new Map();

async function session(model, threads) {
  const key = model + '@' + threads;
  if (!sessions.has(key)) {
    sessions.set(key, await ort.InferenceSession.create(model, {
      intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    }));
  }
  return sessions.get(key);
}

function inputShape(s) {
  // onnxruntime-node >= 1.20 describes inputs in inputMetadata; the bench exports fixed shapes
  const meta = s.inputMetadata && s.inputMetadata[0];
  if (!meta || !meta.shape || meta.shape.some((d) => typeof d !== 'number'))
    throw new Error('no fixed input shape in the model');
  return meta.shape;
}

function feeds(s, data) {
  const shape = inputShape(s);
  const n = shape.reduce((a, b) => a * b, 1);
  if (!data) {
    data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = Math.random() * 2 - 1;
  }
  if (data.length !== n) throw new Error('input has ' + data.length + ' floats, the model takes ' + n);
  return {[s.inputNames[0]]: new ort.Tensor('float32', data, shape)};
}

async function time(req) {
  const s = await session(req.model, req.threads);
  const f = feeds(s);
  await s.run(f); // warm-up
  const times = [];
  for (let i = 0; i < req.runs; i++) {
    const t0 = process.hrtime.bigint();
    await s.run(f);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return {times_ms: times};
}

async function runOnce(req) {
  const s = await session(req.model, req.threads);
  const buf = fs.readFileSync(req.input);
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
  const out = (await s.run(feeds(s, data)))[s.outputNames[0]];
  fs.writeFileSync(req.output, Buffer.from(out.data.buffer, out.data.byteOffset, out.data.byteLength));
  return {shape: out.dims};
}

function version() {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, 'node_modules', 'onnxruntime-node', 'package.json')));
  return {ort: pkg.version, node: process.version};
}

async function release() {
  for (const s of sessions.values()) await s.release();
  sessions.clear();
  return {};
}

const ops = {version: async () => version(), time, run: runOnce, release};

async function oneShot(argv) {
  if (argv[0] === '--baseline')
    return;
  const s = await session(argv[1], Number(argv[2]));
  await s.run(feeds(s));
}

if (process.argv[2] === '--once' || process.argv[2] === '--baseline') {
  oneShot(process.argv.slice(2)).catch((e) => {
    process.stderr.write('ort.js: ' + String(e && e.message || e) + '\n');
    process.exit(1);
  });
} else {
  serve();
}

function serve() {
  const rl = readline.createInterface({input: process.stdin});
  let queue = Promise.resolve();
  rl.on('line', (line) => {
    queue = queue.then(async () => {
      let reply;
      try {
        const req = JSON.parse(line);
        if (!ops[req.op]) throw new Error('unknown op ' + req.op);
        reply = await ops[req.op](req);
      } catch (e) {
        reply = {error: String(e && e.message || e)};
      }
      process.stdout.write(JSON.stringify(reply) + '\n');
    });
  });
}
