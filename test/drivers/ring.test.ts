// Xen's generic shared ring over an ArrayBuffer page: geometry, flow, notification rules, wraparound, a lying frontend.
import { describe, expect, test } from '@jest/globals';
import { BackRing, FrontRing, RingError, SRING_HEADER, initSharedRing, needsNotify, ringEntries } from '../../src/drivers/ring';

const PAGE = 4096;

/** A fresh page shared by a front ring (the "guest") and a back ring (the backend under test). */
function pair(entrySize = 16): { view: DataView; front: FrontRing; back: BackRing } {
  const view = new DataView(new ArrayBuffer(PAGE));
  initSharedRing(view);
  return { view, front: new FrontRing(view, entrySize), back: new BackRing(view, entrySize) };
}

const entry = (n: number, size = 16): Uint8Array => {
  const b = new Uint8Array(size);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
};

const word = (v: DataView | null): number => {
  if (v === null) throw new Error('expected an entry');
  return v.getUint32(0, true);
};

describe('ring geometry', () => {
  test('rounds the entry count down to a power of two, as io/ring.h does', () => {
    // blkif: 112-byte entries give 36 slots, rounded to 32; netif tx: 12 bytes give 336 -> 256.
    expect(ringEntries(PAGE, 112)).toBe(32);
    expect(ringEntries(PAGE, 12)).toBe(256);
    expect(ringEntries(PAGE, 8)).toBe(256);
    expect(ringEntries(PAGE, 16)).toBe(128);
    expect(ringEntries(PAGE, PAGE - SRING_HEADER)).toBe(1);
  });

  test('rejects entry sizes that do not fit', () => {
    expect(() => ringEntries(PAGE, 0)).toThrow(RingError);
    expect(() => ringEntries(PAGE, PAGE)).toThrow(/no room/);
    expect(() => new BackRing(new DataView(new ArrayBuffer(PAGE)), 1.5)).toThrow(/bad ring entry size/);
  });

  test('initSharedRing sets producers to 0 and event indices to 1', () => {
    const view = new DataView(new ArrayBuffer(PAGE));
    view.setUint32(0, 77, true);
    initSharedRing(view);
    expect([0, 4, 8, 12].map((o) => view.getUint32(o, true))).toEqual([0, 1, 0, 1]);
  });

  test('entries start at offset 64 and wrap by the mask', () => {
    const { back } = pair(112);
    expect(back.entryOffset(0)).toBe(64);
    expect(back.entryOffset(1)).toBe(64 + 112);
    expect(back.entryOffset(32)).toBe(64);
    expect(back.entryOffset(0xffffffff)).toBe(64 + 31 * 112);
  });
});

describe('notification rule', () => {
  test('notifies only when the event index lies in (old, new]', () => {
    expect(needsNotify(0, 1, 1)).toBe(true);
    expect(needsNotify(0, 3, 2)).toBe(true);
    expect(needsNotify(1, 3, 1)).toBe(false);
    expect(needsNotify(3, 5, 9)).toBe(false);
    // Across the u32 wrap.
    expect(needsNotify(0xfffffffe, 1, 0xffffffff)).toBe(true);
    expect(needsNotify(0xfffffffe, 1, 2)).toBe(false);
  });
});

describe('requests and responses', () => {
  test('the backend takes copies of requests and answers them; the frontend reads the answers', () => {
    const { view, front, back } = pair();
    expect(back.unconsumedRequests()).toBe(0);
    front.putRequest(entry(10));
    front.putRequest(entry(11));
    // Not visible before the push; the first push notifies (req_event starts at 1).
    expect(back.unconsumedRequests()).toBe(0);
    expect(front.pushRequests()).toBe(true);
    expect(back.unconsumedRequests()).toBe(2);

    const first = back.takeRequest();
    // The copy is private: the guest rewriting the slot afterwards does not change it.
    view.setUint32(back.entryOffset(0), 999, true);
    expect(word(first)).toBe(10);
    expect(word(back.takeRequest())).toBe(11);
    expect(back.takeRequest()).toBeNull();

    back.putResponse(entry(20));
    back.putResponse(entry(21));
    expect(front.unconsumedResponses()).toBe(0);
    expect(back.pushResponses()).toBe(true);
    expect(word(front.takeResponse())).toBe(20);
    expect(word(front.takeResponse())).toBe(21);
    expect(front.takeResponse()).toBeNull();
  });

  test('pushes notify only as the event indices ask', () => {
    const { front, back } = pair();
    front.putRequest(entry(1));
    expect(front.pushRequests()).toBe(true);
    // req_event is still 1: the next push is not notified until the backend re-arms it.
    front.putRequest(entry(2));
    expect(front.pushRequests()).toBe(false);
    back.takeRequest();
    back.takeRequest();
    expect(back.finalCheckForRequests()).toBe(false);
    front.putRequest(entry(3));
    expect(front.pushRequests()).toBe(true);

    back.takeRequest();
    back.putResponse(entry(1));
    expect(back.pushResponses()).toBe(true);
    back.putResponse(entry(2));
    // rsp_event is still 1 and the frontend has not re-armed it.
    expect(back.pushResponses()).toBe(false);
    front.takeResponse();
    front.takeResponse();
    expect(front.finalCheckForResponses()).toBe(false);
    back.putResponse(entry(3));
    expect(back.pushResponses()).toBe(true);
  });

  test('final check sees a request published before it re-armed and sets req_event to req_cons + 1', () => {
    const { view, front, back } = pair();
    front.putRequest(entry(1));
    front.pushRequests();
    expect(back.finalCheckForRequests()).toBe(true);
    back.takeRequest();
    expect(back.finalCheckForRequests()).toBe(false);
    expect(view.getUint32(4, true)).toBe(2);
  });

  test('a full ring refuses more requests, and the backend cannot answer more than it took', () => {
    const { front, back } = pair(1024);
    expect(front.size).toBe(2);
    front.putRequest(entry(1, 1024));
    front.putRequest(entry(2, 1024));
    expect(front.freeRequests()).toBe(0);
    expect(() => front.putRequest(entry(3, 1024))).toThrow(/full/);
    front.pushRequests();
    back.takeRequest();
    back.putResponse(entry(1, 1024));
    expect(() => back.putResponse(entry(2, 1024))).toThrow(/no request left/);
    expect(() => back.putResponse(new Uint8Array(1025))).toThrow(RingError);
  });

  test('indices wrap around u32 and the slot mask together', () => {
    const { view, front, back } = pair();
    const start = 0xffffff00;
    for (const [off, v] of [[0, start], [8, start]] as const) view.setUint32(off, v, true);
    front.setState({ cons: start, prodPvt: start, fault: null });
    back.setState({ cons: start, prodPvt: start, fault: null });
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 100; i++) front.putRequest(entry(round * 1000 + i));
      front.pushRequests();
      expect(back.unconsumedRequests()).toBe(100);
      for (let i = 0; i < 100; i++) {
        const req = word(back.takeRequest());
        expect(req).toBe(round * 1000 + i);
        back.putResponse(entry(req + 1));
      }
      back.pushResponses();
      for (let i = 0; i < 100; i++) expect(word(front.takeResponse())).toBe(round * 1000 + i + 1);
    }
    // 500 entries from 0xffffff00 end past the wrap.
    expect(back.getState().cons).toBe((start + 500) >>> 0);
    expect(view.getUint32(8, true)).toBe((start + 500) >>> 0);
  });
});

describe('a frontend that breaks the protocol', () => {
  test('req_prod running more than a ring ahead faults the back ring, which then stays quiet', () => {
    const { view, back } = pair();
    view.setUint32(0, 129, true);
    expect(back.unconsumedRequests()).toBe(0);
    expect(back.fault).toMatch(/req_prod 129 is 129 requests ahead of rsp_prod 0 in a 128-entry ring/);
    expect(back.takeRequest()).toBeNull();
    expect(back.finalCheckForRequests()).toBe(false);
    expect(back.pushResponses()).toBe(false);
    // Even when the frontend puts the index back, the fault sticks.
    view.setUint32(0, 1, true);
    expect(back.takeRequest()).toBeNull();
  });

  test('req_prod moved backwards behind req_cons is an overrun too', () => {
    const { view, front, back } = pair();
    for (let i = 0; i < 4; i++) front.putRequest(entry(i));
    front.pushRequests();
    back.takeRequest();
    back.takeRequest();
    view.setUint32(0, 0xffffffff, true);
    expect(back.unconsumedRequests()).toBe(0);
    expect(back.fault).not.toBeNull();
  });

  test('exactly a full ring of outstanding requests is legal', () => {
    const { view, back } = pair();
    view.setUint32(0, 128, true);
    expect(back.unconsumedRequests()).toBe(128);
    expect(back.fault).toBeNull();
  });

  test('the front ring faults when responses outnumber its requests', () => {
    const { view, front } = pair();
    front.putRequest(entry(1));
    front.pushRequests();
    view.setUint32(8, 2, true);
    expect(front.takeResponse()).toBeNull();
    expect(front.fault).toMatch(/rsp_prod 2 runs ahead/);
  });
});

describe('save and restore', () => {
  test('a restored back ring carries on where the saved one stopped', () => {
    const { view, front, back } = pair();
    for (let i = 0; i < 3; i++) front.putRequest(entry(i));
    front.pushRequests();
    back.takeRequest();
    const saved = back.getState();
    const again = new BackRing(view, 16);
    again.setState(JSON.parse(JSON.stringify(saved)));
    expect(word(again.takeRequest())).toBe(1);
    expect(again.unconsumedRequests()).toBe(1);
  });

  test('malformed state is rejected with a clear error', () => {
    const { back } = pair();
    expect(() => back.setState({ cons: -1, prodPvt: 0, fault: null })).toThrow(/bad ring state/);
    expect(() => back.setState({ cons: 0, prodPvt: 2 ** 32, fault: null })).toThrow(RingError);
    expect(() => back.setState(null as never)).toThrow(RingError);
  });
});
