// The byte-level parser: any chunking yields the same messages; oversize lengths are fatal; nothing throws.
import { describe, expect, test } from '@jest/globals';
import { MessageReader } from '../../src/xenstore/framer';
import { encodeMessage, XsType, xsTypeName } from '../../src/xenstore/wire';
import { StreamSession } from '../../src/xenstore/host';
import { XenStore } from '../../src/xenstore/state';
import { latin1Bytes, latin1String } from '../../src/xenstore/bytes';
import { fuzz, rng } from './fuzzer';

function msgs(): Uint8Array {
  const parts = [
    encodeMessage({ type: XsType.READ, reqId: 1, txId: 0, payload: latin1Bytes('/tool\0') }),
    encodeMessage({ type: XsType.TRANSACTION_START, reqId: 2, txId: 0, payload: new Uint8Array(0) }),
    encodeMessage({ type: XsType.WRITE, reqId: 3, txId: 7, payload: latin1Bytes('/a\0' + 'v'.repeat(4093)) }),
  ];
  const all = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return all;
}

describe('message framing', () => {
  test('every chunking gives the same messages', () => {
    const all = msgs();
    const r = rng(42);
    for (let trial = 0; trial < 200; trial++) {
      const reader = new MessageReader();
      const got = [];
      for (let off = 0; off < all.length; ) {
        const n = 1 + Math.floor(r() * (trial % 2 ? 20 : 5000));
        got.push(...reader.feed(all.subarray(off, off + n)).messages);
        off += n;
      }
      expect(got.map((m) => [m.type, m.reqId, m.txId, m.payload.length])).toEqual([[2, 1, 0, 6], [6, 2, 0, 0], [11, 3, 7, 4096]]);
      expect(reader.pending).toBe(false);
    }
  });

  test('a length over 4096 breaks the stream for good', () => {
    const reader = new MessageReader();
    const hdr = new Uint8Array(16);
    new DataView(hdr.buffer).setUint32(12, 4097, true);
    expect(reader.feed(hdr).error).toBe('oversize');
    expect(reader.feed(msgs()).error).toBe('oversize');
  });

  test('the session answers garbage with errors and closes on oversize', () => {
    const store = new XenStore();
    const out: string[] = [];
    let closed = '';
    const s = new StreamSession(store, 0, { write: (b) => out.push(latin1String(b.subarray(16))), close: (why) => (closed = why) });
    s.receive(encodeMessage({ type: 1234, reqId: 1, txId: 0, payload: new Uint8Array([1, 2, 3]) }));
    s.receive(encodeMessage({ type: XsType.READ, reqId: 2, txId: 0, payload: new Uint8Array([0xff, 0xfe]) }));
    expect(out).toEqual(['ENOSYS\0', 'EINVAL\0']);
    const bad = new Uint8Array(16);
    new DataView(bad.buffer).setUint32(12, 0xffffffff, true);
    s.receive(bad);
    expect(closed).toMatch(/4096/);
  });
});

describe('session output batching', () => {
  test("a request's watch events and reply leave in one write; other connections get their own", () => {
    const store = new XenStore();
    const writes: Uint8Array[][] = [[], []];
    const msgsOf = (b: Uint8Array): string[] => new MessageReader().feed(b).messages.map((m) => xsTypeName[m.type] + ':' + latin1String(m.payload).replace(/\0/g, '|'));
    const a = new StreamSession(store, 0, { write: (b) => writes[0].push(b), close: () => undefined });
    const b = new StreamSession(store, 0, { write: (x) => writes[1].push(x), close: () => undefined, alloc: (n) => new Uint8Array(n) });
    a.receive(encodeMessage({ type: XsType.WATCH, reqId: 1, txId: 0, payload: latin1Bytes('/w\0ta\0') }));
    b.receive(encodeMessage({ type: XsType.WATCH, reqId: 1, txId: 0, payload: latin1Bytes('/w\0tb\0') }));
    // Registering a watch: the reply, then its initial event, in one write.
    expect(writes[0].map(msgsOf)).toEqual([['WATCH:OK|', 'WATCH_EVENT:/w|ta|']]);
    writes[0].length = 0;
    writes[1].length = 0;
    // Two pipelined writes in one chunk: all four events and both replies in a single write to `a`.
    const w1 = encodeMessage({ type: XsType.WRITE, reqId: 2, txId: 0, payload: latin1Bytes('/w\0x') });
    const w2 = encodeMessage({ type: XsType.WRITE, reqId: 3, txId: 0, payload: latin1Bytes('/w/c\0y') });
    const both = new Uint8Array(w1.length + w2.length);
    both.set(w1, 0);
    both.set(w2, w1.length);
    a.receive(both);
    expect(writes[0].map(msgsOf)).toEqual([['WATCH_EVENT:/w|ta|', 'WRITE:OK|', 'WATCH_EVENT:/w/c|ta|', 'WRITE:OK|']]);
    expect(writes[1].map(msgsOf)).toEqual([['WATCH_EVENT:/w|tb|', 'WATCH_EVENT:/w/c|tb|']]);
  });
});

describe('fuzzing', () => {
  test('seeded random messages for 3 s: no throw, one reply per request, store sound', () => {
    const t0 = Date.now();
    let total = 0;
    for (let seed = 1; Date.now() - t0 < 3000; seed++) {
      const st = fuzz(seed, 20000, () => Date.now(), t0 + 3000);
      total += st.messages;
      expect(st.replies).toBeGreaterThan(0);
    }
    expect(total).toBeGreaterThan(10000);
  });
});
