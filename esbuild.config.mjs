// Bundles src/main.ts into one script for QuickJS 2021-03-27 (es2020, no modules at run time).
import * as esbuild from 'esbuild';

/** Options shared by the boot bundle and the test bundle, so both see the same code. */
export const bundleOptions = {
  entryPoints: ['src/main.ts'],
  bundle: true,
  format: 'iife',
  target: 'es2020',
  platform: 'neutral',
  mainFields: ['module', 'main'],
  legalComments: 'none',
  minifySyntax: true,
  sourcemap: false,
  logLevel: 'warning',
};

/** Builds build/zazen.js; run as a script by scripts/build.sh. */
export async function buildBundle(outfile = 'build/zazen.js') {
  await esbuild.build({ ...bundleOptions, outfile });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await buildBundle(process.argv[2]);
}
