// The ring and console backend bundled as for zazen (esbuild, es2020) and run in real QuickJS via quickjs-emscripten.
import { describe, expect, test } from '@jest/globals';
import * as esbuild from 'esbuild';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';

const root = path.resolve(__dirname, '../..');

// A guest prints through the console ring, a frontend and backend trade a request, a corrupt index disconnects.
const ENTRY = `
import { ConsoleBackend, OUT_OFFSET, OUT_PROD, IN_PROD } from './src/drivers/consoleBackend';
import { BackRing, FrontRing, initSharedRing } from './src/drivers/ring';
const page = new DataView(new ArrayBuffer(4096));
const out = [];
const logs = [];
let notifies = 0;
const con = new ConsoleBackend(page, { notify: () => { notifies++; }, sink: (b) => out.push(String.fromCharCode.apply(null, Array.from(b))), log: (l) => logs.push(l) });
const msg = 'ZAZEN-GUEST-READY\\n';
for (let i = 0; i < msg.length; i++) page.setUint8(OUT_OFFSET + i, msg.charCodeAt(i));
page.setUint32(OUT_PROD, msg.length, true);
const drained = con.kick();
con.write(new Uint8Array([117, 110, 97, 109, 101, 13]));
const inProd = page.getUint32(IN_PROD, true);
page.setUint32(OUT_PROD, 0xffffffff, true);
con.kick();
const rv = new DataView(new ArrayBuffer(4096));
initSharedRing(rv);
const front = new FrontRing(rv, 112);
const back = new BackRing(rv, 112);
front.putRequest(new Uint8Array([42]));
const notifyBack = front.pushRequests();
const req = back.takeRequest();
back.putResponse(new Uint8Array([req.getUint8(0) + 1]));
const notifyFront = back.pushResponses();
const rsp = front.takeResponse().getUint8(0);
globalThis.result = JSON.stringify({ out, drained, inProd, notifies, connected: con.isConnected, logs: logs.length, size: back.size, notifyBack, notifyFront, rsp });
`;

describe('QuickJS', () => {
  test('the ring and the console backend run in QuickJS', async () => {
    const built = await esbuild.build({
      stdin: { contents: ENTRY, resolveDir: root, loader: 'ts' },
      bundle: true,
      format: 'iife',
      target: 'es2020',
      platform: 'neutral',
      write: false,
      logLevel: 'silent',
    });
    // quickjs-emscripten loads its wasm with a dynamic import, which jest's VM refuses: run it in a plain node.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zazen-qjs-drivers-'));
    const bundleFile = path.join(dir, 'bundle.js');
    fs.writeFileSync(bundleFile, built.outputFiles[0].text + '\nresult');
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
    expect(JSON.parse(run.stdout)).toEqual({
      out: ['ZAZEN-GUEST-READY\n'],
      drained: 18,
      inProd: 6,
      notifies: 2,
      connected: false,
      logs: 1,
      size: 32,
      notifyBack: true,
      notifyFront: true,
      rsp: 43,
    });
  });
});
