// The xenstore ring transport over an ArrayBuffer page: wrap-around, flow control, corrupt indices, reconnect.
import { describe, expect, test } from '@jest/globals';
import { XenStore } from '../../src/xenstore/state';
import { RingConnection, RING, SERVER_FEATURES, XENSTORE_ERROR_RINGIDX, XENSTORE_ERROR_PROTO, XENSTORE_RECONNECT } from '../../src/xenstore/ring';
import { XsType, encodeMessage } from '../../src/xenstore/wire';
import { XsClient } from '../../src/xenstore/client';
import { latin1String } from '../../src/xenstore/bytes';
import { FakeGuest } from './guest';

function setup(quotas = {}): { store: XenStore; g: FakeGuest; ring: RingConnection; kicks: number[]; xs: XsClient } {
  const store = new XenStore({ quotas });
  const xs = new XsClient(store);
  xs.mkdir('/local/domain/3');
  xs.setPerms('/local/domain/3', ['n3']);
  const g = new FakeGuest();
  const kicks: number[] = [];
  const ring = new RingConnection(store, 3, g.page, () => kicks.push(1));
  return { store, g, ring, kicks, xs };
}

const text = (p: Uint8Array): string => latin1String(p).replace(/\0/g, '|');

describe('xenstore ring', () => {
  test('advertises features and answers requests', () => {
    const { g, ring, kicks } = setup();
    expect(g.page.getUint32(RING.SERVER_FEATURES, true)).toBe(SERVER_FEATURES);
    const id = g.request('WRITE', 'name|guest');
    g.request('READ', 'name|');
    ring.kick();
    expect(kicks.length).toBe(1);
    const r = g.take();
    expect(r.map((m) => [m.reqId, m.type, text(m.payload)])).toEqual([[id, XsType.WRITE, 'OK|'], [id + 1, XsType.READ, 'guest']]);
  });

  test('many messages across index wrap-around and split headers', () => {
    const { g, ring } = setup();
    let sent = 0;
    let got = 0;
    for (let round = 0; round < 400; round++) {
      // Odd lengths so messages straddle the ring end at every offset.
      g.request('WRITE', `k${round % 7}|` + 'v'.repeat(round % 50));
      sent++;
      ring.kick();
      got += g.take().length;
    }
    expect(got).toBe(sent);
    expect(g.page.getUint32(RING.REQ_CONS, true)).toBe(g.page.getUint32(RING.REQ_PROD, true));
  });

  test('free-running indices wrap past 2^32', () => {
    const { g, ring } = setup();
    const start = 0xfffffff0;
    for (const off of [RING.REQ_CONS, RING.REQ_PROD, RING.RSP_CONS, RING.RSP_PROD]) g.page.setUint32(off, start, true);
    for (let i = 0; i < 20; i++) g.request('READ', 'missing|');
    ring.kick();
    const r = g.take();
    expect(r.length).toBe(20);
    expect(g.page.getUint32(RING.REQ_CONS, true)).toBeLessThan(start);
  });

  test('a request split over several kicks is assembled', () => {
    const { g, ring } = setup();
    const b = encodeMessage({ type: XsType.WRITE, reqId: 9, txId: 0, payload: new Uint8Array([0x61, 0, 0x62]) });
    for (let i = 0; i < b.length; i++) {
      g.put(b.subarray(i, i + 1));
      ring.kick();
    }
    expect(g.take().map((m) => text(m.payload))).toEqual(['OK|']);
  });

  test('replies wait for space in the response ring', () => {
    const { g, ring } = setup();
    const big = 'x'.repeat(900);
    g.request('WRITE', 'big|' + big);
    ring.kick();
    g.take();
    for (let i = 0; i < 3; i++) g.request('READ', 'big|');
    ring.kick();
    // Only ~one reply fits in 1024 bytes; the guest drains, kicks, and gets the rest.
    let replies = g.take().length;
    for (let i = 0; i < 5 && replies < 3; i++) {
      ring.kick();
      replies += g.take().length;
    }
    expect(replies).toBe(3);
  });

  test('outstanding quota stops reading until the guest consumes replies', () => {
    const { g, ring } = setup({ outstanding: 2 });
    g.request('WRITE', 'big|' + 'y'.repeat(1000));
    ring.kick();
    g.take();
    for (let i = 0; i < 4; i++) g.request('READ', 'big|');
    ring.kick();
    // One reply is in the ring, one queued: the quota of 2 is reached, so two requests stay unread.
    expect(ring.backlog).toBeGreaterThan(0);
    const unread = (g.page.getUint32(RING.REQ_PROD, true) - g.page.getUint32(RING.REQ_CONS, true)) >>> 0;
    expect(unread).toBeGreaterThan(0);
    let got = 0;
    for (let i = 0; i < 10 && got < 4; i++) {
      got += g.take().length;
      ring.kick();
    }
    expect(got).toBe(4);
  });

  test('watch events reach the guest; duplicates waiting in the queue are dropped', () => {
    const { g, ring, xs } = setup();
    g.request('WATCH', 'data|tok|');
    ring.kick();
    expect(g.take().map((m) => text(m.payload))).toEqual(['OK|', 'data|tok|']);
    xs.write('/local/domain/3/data', 'x'.repeat(1000));
    xs.write('/local/domain/3/data', 'y');
    xs.write('/local/domain/3/data', 'z');
    ring.kick();
    const ev = g.take();
    expect(ev.every((m) => m.type === XsType.WATCH_EVENT)).toBe(true);
    expect(ev.length).toBe(1);
  });

  test('corrupt request indices: error field set, ring ignored', () => {
    const { store, g, ring } = setup();
    g.request('WATCH', 'a|t|');
    ring.kick();
    g.take();
    g.page.setUint32(RING.REQ_PROD, g.page.getUint32(RING.REQ_CONS, true) + 5000, true);
    ring.kick();
    expect(g.page.getUint32(RING.ERROR, true)).toBe(XENSTORE_ERROR_RINGIDX);
    expect(ring.broken).toBe(true);
    expect(store.watchIndex.size).toBe(0);
  });

  test('corrupt response indices are caught too', () => {
    const { g, ring } = setup();
    g.page.setUint32(RING.RSP_CONS, 12345, true);
    g.request('READ', 'x|');
    ring.kick();
    expect(g.page.getUint32(RING.ERROR, true)).toBe(XENSTORE_ERROR_RINGIDX);
  });

  test('oversize length: protocol error', () => {
    const { g, ring } = setup();
    const hdr = new DataView(new ArrayBuffer(16));
    hdr.setUint32(0, XsType.WRITE, true);
    hdr.setUint32(12, 4097, true);
    g.put(new Uint8Array(hdr.buffer));
    ring.kick();
    expect(g.page.getUint32(RING.ERROR, true)).toBe(XENSTORE_ERROR_PROTO);
  });

  test('reconnect resets the ring and the connection state', () => {
    const { store, g, ring } = setup();
    g.request('WATCH', 'a|t|');
    ring.kick();
    g.request('READ', 'a|');
    g.page.setUint32(RING.CONNECTION, XENSTORE_RECONNECT, true);
    ring.kick();
    expect(g.page.getUint32(RING.CONNECTION, true)).toBe(0);
    expect(g.page.getUint32(RING.REQ_PROD, true)).toBe(0);
    expect(store.watchIndex.size).toBe(0);
    g.request('READ', 'missing|');
    ring.kick();
    expect(g.take().map((m) => text(m.payload))).toEqual(['ENOENT|']);
  });

  test('introduce through a hook binds a ring; release closes it', () => {
    const store = new XenStore();
    const g = new FakeGuest();
    let ring: RingConnection | undefined;
    store.hooks.introduce = (domid) => {
      ring = new RingConnection(store, domid, g.page, () => undefined);
      return ring.conn;
    };
    const xs = new XsClient(store);
    xs.introduce(4, 0xfeffc, 1);
    expect(xs.isIntroduced(4)).toBe(true);
    g.request('GET_DOMAIN_PATH', '4|');
    (ring as RingConnection).kick();
    expect(g.take().map((m) => text(m.payload))).toEqual(['/local/domain/4|']);
    xs.release(4);
    expect((ring as RingConnection).broken).toBe(true);
  });

  test('a page view too small is refused', () => {
    expect(() => new RingConnection(new XenStore(), 1, new DataView(new ArrayBuffer(100)), () => undefined)).toThrow(RangeError);
  });
});
