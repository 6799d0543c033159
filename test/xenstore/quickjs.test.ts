// The xenstore code bundled as for zazen (esbuild, es2020) and run in real QuickJS via quickjs-emscripten.
import { describe, expect, test } from '@jest/globals';
import { runEntryInQuickJS } from '../quickjsHarness';

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
    const res = await runEntryInQuickJS(ENTRY, 60000);
    expect(res.v).toBe('héllo');
    expect(res.events).toEqual(['/q', '/q/a', '/q/b']);
    expect(res.rspLen).toBe(16 + '/local/domain/3\0'.length);
    expect(res.lines).toEqual(['a = "h\\303\\251llo"', 'b = "2"']);
  });
});
