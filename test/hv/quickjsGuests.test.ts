// The guest machinery bundled as for zazen (es2020) and run in real QuickJS: same figures as in Node, no missing built-ins.
import { expect, test } from '@jest/globals';
import * as fs from 'fs';
import * as path from 'path';
import { setShim } from '../../src/hv/abi';
import { runGuestScenario } from './guestScenario';
import { codeWithoutComments, expectNoneIn, REPO_ROOT, runExportInQuickJS } from '../quickjsHarness';

const DIRS = ['src/hv', 'src/hv/hypercalls', 'src/toolstack', 'src/toolstack/xl'];

test('the hypervisor and toolstack sources use no built-in QuickJS 2021 lacks', () => {
  for (const dir of DIRS) {
    for (const f of fs.readdirSync(path.join(REPO_ROOT, dir)).filter((x) => x.endsWith('.ts'))) {
      const code = codeWithoutComments(`${dir}/${f}`);
      expectNoneIn(`${dir}/${f}`, code, [/\.at\(/, /Object\.hasOwn\b/, /\.findLast(Index)?\(/, /\bWeakRef\b/, /\bFinalizationRegistry\b/, /\bstructuredClone\b/, /\.replaceAll\(/, /\bstatic\s*\{/, /\.matchAll\(/]);
    }
  }
});

test('three guests (output, hypercall page, crash, spinner) give the same figures in QuickJS as in Node', async () => {
  const inQuickJs = await runExportInQuickJS('./test/hv/guestScenario', 'runGuestScenario');
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
