// Test helper for QuickJS compatibility: bundle TypeScript as for zazen (esbuild, es2020 iife), run it in real QuickJS via quickjs-emscripten, scan sources for missing built-ins.
import { expect } from '@jest/globals';
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The repository root, against which bundled imports and source paths resolve. */
export const REPO_ROOT = path.resolve(__dirname, '..');

/** Bundles a TypeScript entry script (imports relative to the repo root) into one es2020 iife, as esbuild.config.mjs does. */
export async function bundleForQuickJS(source: string): Promise<string> {
  const built = await esbuild.build({
    stdin: { contents: source, resolveDir: REPO_ROOT, loader: 'ts' },
    bundle: true,
    format: 'iife',
    target: 'es2020',
    platform: 'neutral',
    write: false,
    logLevel: 'silent',
  });
  return built.outputFiles[0].text;
}

/** Evaluates bundled code in a fresh QuickJS context and returns its `globalThis.result` JSON string, parsed. */
export function runInQuickJS(code: string, timeoutMs = 120000): unknown {
  // quickjs-emscripten loads its wasm with a dynamic import, which jest's VM refuses: run it in a plain node.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zazen-qjs-'));
  try {
    const bundleFile = path.join(dir, 'bundle.js');
    fs.writeFileSync(bundleFile, code + '\nresult');
    const runner = `
      import { getQuickJS } from 'quickjs-emscripten';
      import fs from 'node:fs';
      const vm = (await getQuickJS()).newContext();
      const r = vm.evalCode(fs.readFileSync(${JSON.stringify(bundleFile)}, 'utf8'));
      if (r.error) { console.log(JSON.stringify({ error: vm.dump(r.error) })); process.exit(1); }
      console.log(vm.dump(r.value));`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', runner], { cwd: REPO_ROOT, encoding: 'utf8', timeout: timeoutMs });
    if (run.status !== 0) throw new Error('QuickJS run failed: ' + run.stdout + run.stderr);
    return JSON.parse(run.stdout);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Bundles an entry script that sets `globalThis.result` to a JSON string and returns that result as QuickJS computes it. */
export async function runEntryInQuickJS(source: string, timeoutMs = 120000): Promise<any> {
  return runInQuickJS(await bundleForQuickJS(source), timeoutMs);
}

/** Runs a zero-argument exported function (module path relative to the repo root) in QuickJS and returns its result via JSON. */
export async function runExportInQuickJS(modulePath: string, fnName: string, timeoutMs = 120000): Promise<any> {
  return runEntryInQuickJS(`import { ${fnName} } from '${modulePath}';\nglobalThis.result = JSON.stringify(${fnName}());\n`, timeoutMs);
}

/** Reads a repo source file with its line and block comments removed, so banned-name scans see only code. */
export function codeWithoutComments(relPath: string): string {
  return fs.readFileSync(path.join(REPO_ROOT, relPath), 'utf8').replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
}

/** Matches an import of a Node built-in module, which the QuickJS runtime does not have. */
export const NODE_IMPORT = /from '(node:)?(fs|path|os|child_process|util|buffer)'/;

/** Asserts that none of the patterns (built-ins QuickJS 2021 lacks, say) occurs in the code, naming the file on failure. */
export function expectNoneIn(label: string, code: string, patterns: RegExp[]): void {
  for (const banned of patterns) {
    expect([label, banned.test(code)]).toEqual([label, false]);
  }
}
