// The issue-3 modules bundled as for zazen (esbuild, es2020) and run in real QuickJS via quickjs-emscripten.
import { expect, test } from '@jest/globals';
import { codeWithoutComments, expectNoneIn, NODE_IMPORT, runExportInQuickJS } from '../quickjsHarness';
import { runScenario } from './scenario';

const MODULES = ['src/hv/elf.ts', 'src/hv/guestMemory.ts', 'src/hv/nestedPageTable.ts', 'src/hv/pvhLayout.ts', 'src/hv/guestPageWalk.ts', 'src/hv/sched/credit.ts', 'src/toolstack/xlConfig.ts'];

test('the modules use no built-in QuickJS 2021 lacks and import nothing from Node', () => {
  for (const file of MODULES) {
    const code = codeWithoutComments(file);
    expectNoneIn(file, code, [/\.at\(/, /Object\.hasOwn\b/, /\.findLast(Index)?\(/, /\bWeakRef\b/, /\bFinalizationRegistry\b/, /\bstructuredClone\b/, /\.replaceAll\(/, /\bTextEncoder\b/, /\bTextDecoder\b/]);
    expect([file, NODE_IMPORT.test(code)]).toEqual([file, false]);
  }
});

test('an end-to-end scenario gives the same figures in QuickJS as in Node', async () => {
  const inQuickJs = await runExportInQuickJS('./test/hv/scenario', 'runScenario');
  const inNode = JSON.parse(JSON.stringify(runScenario()));
  expect(inQuickJs).toEqual(inNode);
  expect(inNode.magic).toBe(0x336ec578);
  expect(inNode.back).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
  expect(inNode.liveAfterDestroy).toBe(0);
  expect(inNode.config.cmdline).toBe('console=hvc0 quiet');
}, 120000);
