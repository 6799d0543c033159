// The ring and console backend bundled as for zazen (esbuild, es2020) and run in real QuickJS via quickjs-emscripten.
import { describe, expect, test } from '@jest/globals';
import { runEntryInQuickJS } from '../quickjsHarness';

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
    expect(await runEntryInQuickJS(ENTRY, 60000)).toEqual({
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
