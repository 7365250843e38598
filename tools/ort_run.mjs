#!/usr/bin/env node
// SPDX-License-Identifier: GPL-3.0-or-later
// Runs an ONNX model in ONNX Runtime (npm package onnxruntime-node, CPU execution
// provider) on raw float32 input and writes the first output as raw float32.
//
// Usage: node tools/ort_run.mjs --model M.onnx --input IN.f32 --shape N,C,H,W
//                               --output OUT.f32 [--package DIR] [--batch B] [--opt LEVEL]
//   --input    little-endian float32, row-major, N*C*H*W values
//   --output   little-endian float32, row-major, the first output of every batch concatenated
//   --package  folder of onnxruntime-node (default: third_party/onnxruntime-node/node_modules/onnxruntime-node
//              next to this script's parent folder)
//   --batch    samples per session.run (default 500)
//   --opt      graph optimisation level: disabled (default) | basic | extended | all.
//              "disabled" runs every node as written. "basic" already changes the float
//              result of a DequantizeLinear -> Gemm with a float bias by a few 1e-4 of an
//              activation step (enough to flip codes of a 2-bit activation); "extended"
//              and "all" may fuse them into integer kernels (QLinearConv), which compute
//              the same codes with a different float rounding of the accumulator.
// Prints one JSON line last: {"dims":[N,...],"runtime":"onnxruntime-node X.Y.Z","seconds":s}.
// Exit status 0 on success, 1 on any error (message on stderr).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || i + 1 >= argv.length) throw new Error(`bad argument '${argv[i]}'`);
    out[argv[i].slice(2)] = argv[i + 1];
  }
  for (const k of ['model', 'input', 'shape', 'output'])
    if (!out[k]) throw new Error(`missing --${k}`);
  return out;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const here = path.dirname(fileURLToPath(import.meta.url));
  const pkg = args.package ||
    path.join(here, '..', 'third_party', 'onnxruntime-node', 'node_modules', 'onnxruntime-node');
  if (!fs.existsSync(path.join(pkg, 'package.json')))
    throw new Error(`onnxruntime-node not found at ${pkg}; run scripts/install-deps`);
  const require = createRequire(import.meta.url);
  const ort = require(path.resolve(pkg));
  const version = JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'), 'utf8')).version;

  const shape = args.shape.split(',').map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 1)) throw new Error(`bad --shape ${args.shape}`);
  const per = shape.slice(1).reduce((a, b) => a * b, 1);
  const buf = fs.readFileSync(args.input);
  if (buf.length !== shape[0] * per * 4)
    throw new Error(`input holds ${buf.length} bytes, shape ${args.shape} needs ${shape[0] * per * 4}`);
  const all = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);

  const t0 = Date.now();
  const session = await ort.InferenceSession.create(args.model, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: args.opt || 'disabled',
    intraOpNumThreads: 1,
  });
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  const batch = Number(args.batch || 500);
  const fd = fs.openSync(args.output, 'w');
  let outDims = null;
  for (let start = 0; start < shape[0]; start += batch) {
    const n = Math.min(batch, shape[0] - start);
    const data = all.slice(start * per, (start + n) * per);
    const feeds = { [inputName]: new ort.Tensor('float32', data, [n, ...shape.slice(1)]) };
    const result = await session.run(feeds);
    const y = result[outputName];
    if (y.type !== 'float32') throw new Error(`output ${outputName} is ${y.type}, expected float32`);
    if (!outDims) outDims = [shape[0], ...y.dims.slice(1)];
    const bytes = Buffer.from(y.data.buffer, y.data.byteOffset, y.data.length * 4);
    fs.writeSync(fd, bytes);
  }
  fs.closeSync(fd);
  console.log(JSON.stringify({ dims: outDims, runtime: `onnxruntime-node ${version}`, seconds: (Date.now() - t0) / 1000 }));
}

main().catch((e) => {
  console.error(`ort_run: ${e && e.message ? e.message : e}`);
  process.exit(1);
});
