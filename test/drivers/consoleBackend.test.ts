// The console backend over an ArrayBuffer ring page: output drains, wraparound, partial drains, input flow, corrupt indices.
import { describe, expect, test } from '@jest/globals';
import {
  ConsoleBackend, IN_CONS, IN_OFFSET, IN_PROD, IN_SIZE, OUT_CONS, OUT_OFFSET, OUT_PROD, OUT_SIZE, PENDING_MAX,
} from '../../src/drivers/consoleBackend';

/** Plays hvc_xen's side of the ring: writes out[] and reads in[] as the Linux frontend does. */
class FakeFrontend {
  constructor(readonly page: DataView) {}

  /** Writes as much of text as fits into out[] and publishes out_prod; returns the bytes written. */
  print(text: string): number {
    const cons = this.page.getUint32(OUT_CONS, true);
    let prod = this.page.getUint32(OUT_PROD, true);
    let n = 0;
    while (n < text.length && ((prod - cons) >>> 0) < OUT_SIZE) {
      this.page.setUint8(OUT_OFFSET + (prod & (OUT_SIZE - 1)), text.charCodeAt(n++));
      prod = (prod + 1) >>> 0;
    }
    this.page.setUint32(OUT_PROD, prod, true);
    return n;
  }

  /** Reads everything in in[] and publishes in_cons. */
  read(): string {
    let cons = this.page.getUint32(IN_CONS, true);
    const prod = this.page.getUint32(IN_PROD, true);
    let s = '';
    while (cons !== prod) {
      s += String.fromCharCode(this.page.getUint8(IN_OFFSET + (cons & (IN_SIZE - 1))));
      cons = (cons + 1) >>> 0;
    }
    this.page.setUint32(IN_CONS, cons, true);
    return s;
  }
}

function setup(init?: (page: DataView) => void) {
  const page = new DataView(new ArrayBuffer(4096));
  if (init) init(page);
  const out: string[] = [];
  const logs: string[] = [];
  let notifies = 0;
  const backend = new ConsoleBackend(page, {
    notify: () => { notifies++; },
    sink: (b) => out.push(String.fromCharCode(...b)),
    log: (l) => logs.push(l),
    name: 'd7 console',
  });
  return { page, backend, guest: new FakeFrontend(page), out, logs, notifies: () => notifies };
}

const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const text = (n: number, seed = 0): string => Array.from({ length: n }, (_, i) => String.fromCharCode(33 + ((i + seed) % 90))).join('');

describe('guest output', () => {
  test('a kick drains out[] into the sink, advances out_cons and notifies the guest', () => {
    const { page, backend, guest, out, notifies } = setup();
    guest.print('ZAZEN-GUEST-READY\n');
    expect(backend.kick()).toBe(18);
    expect(out).toEqual(['ZAZEN-GUEST-READY\n']);
    expect(page.getUint32(OUT_CONS, true)).toBe(18);
    expect(notifies()).toBe(1);
    // Nothing new: nothing drained, no notification.
    expect(backend.kick()).toBe(0);
    expect(out.length).toBe(1);
    expect(notifies()).toBe(1);
  });

  test('output wraps around the end of out[] and the u32 index space', () => {
    const start = 0xfffffc00;
    const { backend, guest, out } = setup((p) => {
      p.setUint32(OUT_PROD, start, true);
      p.setUint32(OUT_CONS, start, true);
    });
    let expected = '';
    for (let round = 0; round < 6; round++) {
      const chunk = text(1500, round);
      expect(guest.print(chunk)).toBe(1500);
      expected += chunk;
      expect(backend.kick()).toBe(1500);
    }
    expect(out.join('')).toBe(expected);
    expect(backend.getState().outCons).toBe((start + 9000) >>> 0);
  });

  test('partial drains take at most maxBytes and leave the rest for the next kick', () => {
    const { backend, guest, out } = setup();
    guest.print(text(100));
    expect(backend.kick(30)).toBe(30);
    expect(backend.kick(30)).toBe(30);
    expect(backend.kick(0)).toBe(0);
    expect(backend.kick()).toBe(40);
    expect(out.map((s) => s.length)).toEqual([30, 30, 40]);
    expect(out.join('')).toBe(text(100));
    expect(() => backend.kick(NaN)).toThrow(/maxBytes must be a number >= 0/);
    expect(() => backend.kick(-1)).toThrow(RangeError);
  });

  test('a full out[] (exactly 2048 bytes) is drained in one kick', () => {
    const { backend, guest, out } = setup();
    expect(guest.print(text(3000))).toBe(OUT_SIZE);
    expect(backend.kick()).toBe(OUT_SIZE);
    expect(out[0]).toBe(text(OUT_SIZE));
  });

  test('the sink gets a private copy the guest cannot change afterwards', () => {
    const page = new DataView(new ArrayBuffer(4096));
    const got: Uint8Array[] = [];
    const backend = new ConsoleBackend(page, { notify: () => undefined, sink: (b) => got.push(b), log: () => undefined });
    new FakeFrontend(page).print('abc');
    backend.kick();
    page.setUint8(OUT_OFFSET, 'z'.charCodeAt(0));
    expect(String.fromCharCode(...got[0])).toBe('abc');
  });

  test('a guest overwriting out_cons does not move the backend', () => {
    const { page, backend, guest, out } = setup();
    guest.print('hello');
    page.setUint32(OUT_CONS, 4, true);
    backend.kick();
    expect(out).toEqual(['hello']);
    expect(page.getUint32(OUT_CONS, true)).toBe(5);
  });
});

describe('guest input', () => {
  test('write copies into in[], publishes in_prod and notifies', () => {
    const { page, backend, guest, notifies } = setup();
    expect(backend.write(bytes('uname -r\r'))).toBe(9);
    expect(page.getUint32(IN_PROD, true)).toBe(9);
    expect(notifies()).toBe(1);
    expect(guest.read()).toBe('uname -r\r');
  });

  test('a full in[] holds the rest back until the guest consumes and kicks', () => {
    const { backend, guest, notifies } = setup();
    const input = text(1500);
    expect(backend.write(bytes(input))).toBe(1500);
    expect(backend.pendingInput).toBe(1500 - IN_SIZE);
    // No room: another write is only queued, with no notification.
    expect(backend.write(bytes('!'))).toBe(1);
    expect(notifies()).toBe(1);
    const first = guest.read();
    expect(first).toBe(input.slice(0, IN_SIZE));
    backend.kick();
    expect(notifies()).toBe(2);
    expect(backend.pendingInput).toBe(0);
    expect(first + guest.read()).toBe(input + '!');
  });

  test('input beyond the held-back limit is refused and reported', () => {
    const { backend } = setup();
    const accepted = backend.write(new Uint8Array(IN_SIZE + PENDING_MAX + 100));
    expect(accepted).toBe(PENDING_MAX);
    expect(backend.pendingInput).toBe(PENDING_MAX - IN_SIZE);
    expect(backend.write(new Uint8Array(IN_SIZE))).toBe(IN_SIZE);
  });

  test('refused input is counted, and a guest that reads again gets the queue in order', () => {
    const { backend, guest } = setup();
    expect(backend.droppedInput).toBe(0);
    const input = text(IN_SIZE + PENDING_MAX);
    // The guest reads nothing: in[] fills, PENDING_MAX are held in all, the rest is dropped.
    expect(backend.write(bytes(input))).toBe(PENDING_MAX);
    expect(backend.write(bytes(input.slice(0, PENDING_MAX)))).toBe(IN_SIZE);
    expect(backend.droppedInput).toBe(IN_SIZE + PENDING_MAX - IN_SIZE);
    expect(backend.write(bytes('xyz'))).toBe(0);
    expect(backend.droppedInput).toBe(PENDING_MAX + 3);
    let got = '';
    for (let i = 0; i < 8 && backend.pendingInput > 0; i++) {
      got += guest.read();
      backend.kick();
    }
    got += guest.read();
    expect(got).toBe(input.slice(0, PENDING_MAX) + input.slice(0, IN_SIZE));
    expect(backend.pendingInput).toBe(0);
  });

  test('input wraps around in[] and the u32 index space', () => {
    const start = 0xffffff00;
    const { backend, guest } = setup((p) => {
      p.setUint32(IN_PROD, start, true);
      p.setUint32(IN_CONS, start, true);
    });
    let got = '';
    let sent = '';
    for (let round = 0; round < 4; round++) {
      const chunk = text(700, round);
      sent += chunk;
      backend.write(bytes(chunk));
      got += guest.read();
    }
    expect(got).toBe(sent);
    expect(backend.getState().inProd).toBe((start + 2800) >>> 0);
  });
});

describe('corrupt indices', () => {
  test('out_prod more than 2048 ahead of out_cons disconnects the device with one log line', () => {
    const { page, backend, out, logs, notifies } = setup();
    page.setUint32(OUT_PROD, OUT_SIZE + 1, true);
    expect(() => backend.kick()).not.toThrow();
    expect(backend.isConnected).toBe(false);
    expect(logs).toEqual(['d7 console: corrupt console ring, device disconnected: out_prod 2049 is 2049 bytes ahead of out_cons 0 (out[] holds 2048)']);
    expect(out).toEqual([]);
    expect(notifies()).toBe(0);
    // Disconnected for good: a repaired index is ignored, input is refused.
    page.setUint32(OUT_PROD, 1, true);
    expect(backend.kick()).toBe(0);
    expect(backend.write(bytes('x'))).toBe(0);
    expect(page.getUint32(IN_PROD, true)).toBe(0);
    expect(logs.length).toBe(1);
  });

  test('out_prod moved behind out_cons is corrupt too', () => {
    const { page, backend, guest, logs } = setup();
    guest.print('abcd');
    backend.kick();
    page.setUint32(OUT_PROD, 2, true);
    backend.kick();
    expect(backend.isConnected).toBe(false);
    expect(backend.disconnectReason).toMatch(/out_prod 2 is 4294967294 bytes ahead of out_cons 4/);
    expect(logs.length).toBe(1);
  });

  test('in_cons moved past in_prod disconnects on the next write', () => {
    const { page, backend, logs } = setup();
    backend.write(bytes('ab'));
    page.setUint32(IN_CONS, 5, true);
    expect(backend.write(bytes('c'))).toBe(0);
    expect(backend.isConnected).toBe(false);
    expect(logs[0]).toMatch(/in_prod 2 is 4294967293 bytes ahead of in_cons 5 \(in\[\] holds 1024\)/);
  });

  test('in_cons dragged more than 1024 behind in_prod is corrupt', () => {
    const { page, backend } = setup((p) => {
      p.setUint32(IN_PROD, 5000, true);
      p.setUint32(IN_CONS, 5000, true);
    });
    page.setUint32(IN_CONS, 100, true);
    backend.write(bytes('x'));
    expect(backend.isConnected).toBe(false);
  });

  test('a corrupt ring found at attach time disconnects on the first kick', () => {
    const { backend } = setup((p) => p.setUint32(OUT_PROD, 0x80000000, true));
    backend.kick();
    expect(backend.isConnected).toBe(false);
  });
});

describe('construction and state', () => {
  test('a view smaller than xencons_interface is refused', () => {
    expect(() => new ConsoleBackend(new DataView(new ArrayBuffer(3000)), { notify: () => undefined, sink: () => undefined, log: () => undefined }))
      .toThrow(/smaller than xencons_interface/);
  });

  test('getState/setState carry indices and held-back input to a new backend', () => {
    const { page, backend, guest } = setup();
    guest.print('before');
    backend.kick();
    backend.write(new Uint8Array(IN_SIZE + 10).fill(65));
    const saved = JSON.parse(JSON.stringify(backend.getState()));
    const out: string[] = [];
    const again = new ConsoleBackend(page, { notify: () => undefined, sink: (b) => out.push(String.fromCharCode(...b)), log: () => undefined });
    again.setState(saved);
    expect(again.pendingInput).toBe(10);
    guest.print('after');
    again.kick();
    expect(out).toEqual(['after']);
    guest.read();
    again.kick();
    expect(guest.read()).toBe('A'.repeat(10));
  });

  test('malformed state is rejected with a clear error', () => {
    const { backend } = setup();
    const good = backend.getState();
    expect(() => backend.setState(null as never)).toThrow(/must be an object/);
    expect(() => backend.setState({ ...good, inProd: -1 })).toThrow(/u32 indices/);
    expect(() => backend.setState({ ...good, pending: [256] })).toThrow(/pending/);
    expect(() => backend.setState({ ...good, connected: 'yes' as never })).toThrow(/connected/);
  });
});
