// Bundles the Node XenStore daemon with esbuild (the compiler of the boot bundle) and runs it: npm run xenstored -- --socket PATH.
import * as esbuild from 'esbuild';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outfile = path.join(root, 'build', 'xenstored.cjs');

/** Builds build/xenstored.cjs from src/xenstore/node/main.ts. */
export async function buildXenstored() {
  await esbuild.build({
    entryPoints: [path.join(root, 'src/xenstore/node/main.ts')],
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'es2020',
    outfile,
    logLevel: 'warning',
  });
  return outfile;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = await buildXenstored();
  const mod = await import(pathToFileURL(file).href);
  const code = await (mod.main || mod.default.main)(process.argv.slice(2));
  if (code >= 0) process.exit(code);
}
