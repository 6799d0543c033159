#!/usr/bin/env node
// XZ decoder speed: Debian's bzImage (build/guest/vmlinuz) decoded to its ELF in Node and in QuickJS, MB/s of output.
//
// Usage: node scripts/bench/xz.mjs [bzImage]      (RUNS=3 Node runs by default)
//        QJS=/path/to/qjs node scripts/bench/xz.mjs   also runs a native QuickJS binary
// The same esbuild bundle of src/toolstack/bzImage.ts runs in each engine, side by side in
// one run: Node (V8), quickjs-emscripten (QuickJS compiled to WebAssembly, a newer QuickJS
// than zazen's) and, with QJS set, a native `qjs` (build one from build/quickjs with
// `make qjs` for zazen's own QuickJS 2021-03-27). Each prints the decode time and MB/s
// (10^6 bytes of output per second); the times include the CRC32 check and the x86 filter.
import { spawnSync } from 'node:child_process';
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getQuickJS } from 'quickjs-emscripten';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const input = path.resolve(process.argv[2] || path.join(root, 'build/guest/vmlinuz'));
const runs = Number(process.env.RUNS || 3);
if (!fs.existsSync(input)) {
  console.error(`xz bench: ${input} not found (npm run build makes build/guest/vmlinuz)`);
  process.exit(1);
}

// One entry for every engine: benchXz(Uint8Array) decodes and reports size, time and CRC32.
const entry = `
import { bzImageElf } from './src/toolstack/bzImage';
import { crc32 } from './src/toolstack/xz/crc';
globalThis.benchXz = (img) => {
  const t0 = Date.now();
  const elf = bzImageElf(img);
  const ms = Date.now() - t0;
  return JSON.stringify({ bytes: elf.length, ms, crc: crc32(elf) });
};`;
const bundle = (await esbuild.build({
  stdin: { contents: entry, resolveDir: root, loader: 'ts' },
  bundle: true, format: 'iife', target: 'es2020', platform: 'neutral', write: false, logLevel: 'silent',
})).outputFiles[0].text;

const img = new Uint8Array(fs.readFileSync(input));
const report = (engine, r) => {
  console.log(`${engine.padEnd(22)} ${String(r.ms).padStart(7)} ms  ${(r.bytes / 1e3 / r.ms).toFixed(2).padStart(7)} MB/s  (${r.bytes} bytes, CRC32 ${r.crc.toString(16)})`);
  return r;
};

console.log(`${path.relative(process.cwd(), input)}: ${img.length} bytes`);
new Function(bundle)();
const nodeRuns = [];
for (let i = 0; i < runs; i++) nodeRuns.push(report(`node ${process.version} #${i + 1}`, JSON.parse(globalThis.benchXz(img))));

const qjs = await getQuickJS();
const vm = qjs.newContext();
try {
  vm.unwrapResult(vm.evalCode(bundle)).dispose();
  const buf = vm.newArrayBuffer(img.buffer.slice(img.byteOffset, img.byteOffset + img.length));
  vm.setProp(vm.global, 'benchInput', buf);
  buf.dispose();
  const res = vm.unwrapResult(vm.evalCode('benchXz(new Uint8Array(benchInput))'));
  report('quickjs-emscripten', JSON.parse(vm.getString(res)));
  res.dispose();
} finally {
  vm.dispose();
}

if (process.env.QJS) {
  // Native QuickJS reads the file itself through its std module (qjs --std).
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zazen-xz-bench-'));
  const script = path.join(dir, 'bench.js');
  fs.writeFileSync(script, `${bundle}
const f = std.open(${JSON.stringify(input)}, 'rb');
f.seek(0, std.SEEK_END); const n = f.tell(); f.seek(0, std.SEEK_SET);
const b = new ArrayBuffer(n); f.read(b, 0, n); f.close();
print(benchXz(new Uint8Array(b)));
`);
  const r = spawnSync(process.env.QJS, ['--std', script], { encoding: 'utf8' });
  fs.rmSync(dir, { recursive: true, force: true });
  if (r.status !== 0) {
    console.error(`xz bench: ${process.env.QJS} failed: ${r.stderr || r.stdout}`);
    process.exit(1);
  }
  report('native qjs', JSON.parse(r.stdout.trim()));
}
const best = Math.min(...nodeRuns.map((r) => r.ms));
console.log(`node best ${best} ms`);
