// The issue-3 modules bundled as for zazen (esbuild, es2020) and run in real QuickJS via quickjs-emscripten.
import { expect, test } from '@jest/globals';
import * as esbuild from 'esbuild';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runScenario } from './scenario';

const root = path.resolve(__dirname, '../..');
const MODULES = ['src/hv/elf.ts', 'src/hv/guestMemory.ts', 'src/hv/nestedPageTable.ts', 'src/hv/pvhLayout.ts', 'src/hv/guestPageWalk.ts', 'src/hv/sched/credit.ts', 'src/toolstack/xlConfig.ts'];

test('the modules use no built-in QuickJS 2021 lacks and import nothing from Node', () => {
  for (const file of MODULES) {
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    const code = text.replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
    for (const banned of [/\.at\(/, /Object\.hasOwn\b/, /\.findLast(Index)?\(/, /\bWeakRef\b/, /\bFinalizationRegistry\b/, /\bstructuredClone\b/, /\.replaceAll\(/, /\bTextEncoder\b/, /\bTextDecoder\b/]) {
      expect([file, banned.test(code)]).toEqual([file, false]);
    }
    expect([file, /from '(node:)?(fs|path|os|child_process|util|buffer)'/.test(code)]).toEqual([file, false]);
  }
});

test('an end-to-end scenario gives the same figures in QuickJS as in Node', async () => {
  const out = await esbuild.build({
    stdin: { contents: "import { runScenario } from './test/hv/scenario';\nglobalThis.result = JSON.stringify(runScenario());\n", resolveDir: root, loader: 'ts' },
    bundle: true,
    format: 'iife',
    target: 'es2020',
    platform: 'neutral',
    write: false,
    logLevel: 'silent',
  });
  // quickjs-emscripten loads its wasm with a dynamic import, which jest's VM refuses: run it in a plain node.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zazen-hv-qjs-'));
  const bundleFile = path.join(dir, 'bundle.js');
  fs.writeFileSync(bundleFile, out.outputFiles[0].text + '\nresult');
  const runner = `
    import { getQuickJS } from 'quickjs-emscripten';
    import fs from 'node:fs';
    const vm = (await getQuickJS()).newContext();
    const r = vm.evalCode(fs.readFileSync(${JSON.stringify(bundleFile)}, 'utf8'));
    if (r.error) { console.log(JSON.stringify({ error: vm.dump(r.error) })); process.exit(1); }
    console.log(vm.dump(r.value));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', runner], { cwd: root, encoding: 'utf8', timeout: 120000 });
  fs.rmSync(dir, { recursive: true, force: true });
  if (run.status !== 0) throw new Error('QuickJS run failed: ' + run.stdout + run.stderr);
  const inQuickJs = JSON.parse(run.stdout);
  const inNode = JSON.parse(JSON.stringify(runScenario()));
  expect(inQuickJs).toEqual(inNode);
  expect(inNode.magic).toBe(0x336ec578);
  expect(inNode.back).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
  expect(inNode.liveAfterDestroy).toBe(0);
  expect(inNode.config.cmdline).toBe('console=hvc0 quiet');
}, 120000);
