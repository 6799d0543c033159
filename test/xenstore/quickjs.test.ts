// The xenstore code bundled as for zazen (esbuild, es2020) and run in real QuickJS via quickjs-emscripten.
import { describe, expect, test } from '@jest/globals';
import * as esbuild from 'esbuild';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';

const root = path.resolve(__dirname, '../..');

// A script exercising the server, watches, a transaction, the ring and the REPL commands inside QuickJS.
const ENTRY = `
import { XenStore } from './src/xenstore/state';
import { XsClient } from './src/xenstore/client';
import { RingConnection, RING } from './src/xenstore/ring';
import { xenstoreCommands } from './src/xenstore/commands';
import { encodeMessage, XsType } from './src/xenstore/wire';
import { latin1Bytes } from './src/xenstore/bytes';
const store = new XenStore();
const xs = new XsClient(store);
const events = [];
xs.watch('/q', 'tok', (p) => events.push(p));
xs.write('/q/a', 'héllo');
const v = xs.read('/q/a');
xs.transaction((t) => t.write('/q/b', '2'));
const page = new DataView(new ArrayBuffer(4096));
const ring = new RingConnection(store, 3, page, () => {});
const req = encodeMessage({ type: XsType.GET_DOMAIN_PATH, reqId: 7, txId: 0, payload: latin1Bytes('3\\0') });
new Uint8Array(page.buffer).set(req, 0);
page.setUint32(RING.REQ_PROD, req.length, true);
ring.kick();
const rspLen = page.getUint32(RING.RSP_PROD, true);
const lines = [];
xenstoreCommands(xs)['xenstore-ls'](['/q'], (l) => lines.push(l));
globalThis.result = JSON.stringify({ v, events, rspLen, lines });
`;

describe('QuickJS', () => {
  test('the xenstore runs in QuickJS 2021 semantics', async () => {
    const out = await esbuild.build({
      stdin: { contents: ENTRY, resolveDir: root, loader: 'ts' },
      bundle: true,
      format: 'iife',
      target: 'es2020',
      platform: 'neutral',
      write: false,
      logLevel: 'silent',
    });
    // quickjs-emscripten loads its wasm with a dynamic import, which jest's VM refuses: run it in a plain node.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zazen-qjs-'));
    const bundleFile = path.join(dir, 'bundle.js');
    fs.writeFileSync(bundleFile, out.outputFiles[0].text + '\nresult');
    const runner = `
      import { getQuickJS } from 'quickjs-emscripten';
      import fs from 'node:fs';
      const vm = (await getQuickJS()).newContext();
      const r = vm.evalCode(fs.readFileSync(${JSON.stringify(bundleFile)}, 'utf8'));
      if (r.error) { console.log(JSON.stringify({ error: vm.dump(r.error) })); process.exit(1); }
      console.log(vm.dump(r.value));`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', runner], { cwd: root, encoding: 'utf8', timeout: 60000 });
    fs.rmSync(dir, { recursive: true, force: true });
    if (run.status !== 0) throw new Error('QuickJS run failed: ' + run.stdout + run.stderr);
    const res = JSON.parse(run.stdout);
    expect(res.v).toBe('héllo');
    expect(res.events).toEqual(['/q', '/q/a', '/q/b']);
    expect(res.rspLen).toBe(16 + '/local/domain/3\0'.length);
    expect(res.lines).toEqual(['a = "h\\303\\251llo"', 'b = "2"']);
  });
});
