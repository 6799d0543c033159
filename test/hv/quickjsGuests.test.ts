// The guest machinery bundled as for zazen (es2020) and run in real QuickJS: same figures as in Node, no missing built-ins.
import { expect, test } from '@jest/globals';
import * as esbuild from 'esbuild';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { setShim } from '../../src/hv/abi';
import { runGuestScenario } from './guestScenario';

const root = path.resolve(__dirname, '../..');
const DIRS = ['src/hv', 'src/hv/hypercalls', 'src/toolstack', 'src/toolstack/xl'];

test('the hypervisor and toolstack sources use no built-in QuickJS 2021 lacks', () => {
  for (const dir of DIRS) {
    for (const f of fs.readdirSync(path.join(root, dir)).filter((x) => x.endsWith('.ts'))) {
      const code = fs.readFileSync(path.join(root, dir, f), 'utf8').replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
      for (const banned of [/\.at\(/, /Object\.hasOwn\b/, /\.findLast(Index)?\(/, /\bWeakRef\b/, /\bFinalizationRegistry\b/, /\bstructuredClone\b/, /\.replaceAll\(/, /\bstatic\s*\{/, /\.matchAll\(/]) {
        expect([`${dir}/${f}`, banned.test(code)]).toEqual([`${dir}/${f}`, false]);
      }
    }
  }
});

test('three guests (output, hypercall page, crash, spinner) give the same figures in QuickJS as in Node', async () => {
  const out = await esbuild.build({
    stdin: { contents: "import { runGuestScenario } from './test/hv/guestScenario';\nglobalThis.result = JSON.stringify(runGuestScenario());\n", resolveDir: root, loader: 'ts' },
    bundle: true,
    format: 'iife',
    target: 'es2020',
    platform: 'neutral',
    write: false,
    logLevel: 'silent',
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zazen-guests-qjs-'));
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
  const inNode = JSON.parse(JSON.stringify(runGuestScenario()));
  setShim(undefined);
  expect(inQuickJs).toEqual(inNode);
  expect(inNode.echoed).toEqual(['(d1) hello from a\n']);
  expect(inNode.extra).toEqual([45, 122, 97, 122, 101, 110, 0]);
  expect(inNode.stub).toEqual([0xb8, 18, 0, 0, 0, 0x0f, 0x01, 0xd9, 0xc3]);
  expect(inNode.list).toMatch(/^a\s+1\s+8\s+1\s+---s--/m);
  expect(inNode.list).toMatch(/^b\s+2\s+4\s+1\s+---sc-/m);
  expect(inNode.list).toMatch(/^c\s+3\s+4\s+1\s+r-----/m);
  expect(inNode.live).toBe(0);
  expect(inNode.dmesg).toContain('domain 2 (b) vcpu 0 crashed: triple fault');
}, 120000);
