#!/usr/bin/env node
// Checks that an ELF kernel can boot as a PVH guest: parses it with zazen's own loader (src/hv/elf.ts).
//
// Usage: node scripts/guest/check-pvh.mjs <vmlinux>
// esbuild bundles src/hv/elf.ts on the fly, so the check is exactly what the domain builder
// will accept; prints the PHYS32_ENTRY and the load segments, exits 1 when the note is missing.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Bundles src/hv/elf.ts into an ES module and imports it. */
async function loadElfModule() {
  const out = await esbuild.build({
    entryPoints: [path.join(root, 'src/hv/elf.ts')],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2020',
    write: false,
    logLevel: 'error',
  });
  const code = out.outputFiles[0].text;
  return import('data:text/javascript;base64,' + Buffer.from(code).toString('base64'));
}

const file = process.argv[2];
if (!file) {
  console.error('usage: check-pvh.mjs <vmlinux>');
  process.exit(2);
}
const elf = await loadElfModule();
try {
  const image = elf.parseElf(new Uint8Array(readFileSync(file)));
  const entry = elf.phys32Entry(image);
  const segs = elf.loadSegments(image);
  const lo = Math.min(...segs.map((s) => s.paddr));
  const hi = Math.max(...segs.map((s) => s.paddr + s.memsz));
  console.error(`check-pvh: ${path.basename(file)}: PHYS32_ENTRY 0x${entry.toString(16)}, ${segs.length} load segments ` +
    `at 0x${lo.toString(16)}-0x${hi.toString(16)} (${((hi - lo) / 1048576).toFixed(1)} MiB)`);
} catch (e) {
  if (!(e instanceof elf.ElfError)) throw e;
  console.error(`check-pvh: ${file}: ${e.message}`);
  process.exit(1);
}
