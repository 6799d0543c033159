// Seeded fuzzer for the wire parser and server: random and mutated messages in random chunks, with invariant checks.
import { XenStore } from '../../src/xenstore/state';
import { StreamSession } from '../../src/xenstore/host';
import { HEADER_SIZE, PAYLOAD_MAX, XsType } from '../../src/xenstore/wire';
import { MessageReader } from '../../src/xenstore/framer';
import { checkStore } from '../../src/xenstore/domains';
import { latin1Bytes } from '../../src/xenstore/bytes';
import { lookup, walk } from '../../src/xenstore/tree';

/** mulberry32: a small deterministic PRNG. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['', '/', 'a', 'b', 'local', 'domain', '1', '2', '0', 'device', 'vbd', 'state', '@releaseDomain', '@introduceDomain', 'x y', '..', '//', 'T', 'F', 'n0', 'r1', 'b2', 'w3', 'n1', '4096', '65535', '-1', '0x10', 'tool', 'xenstored'];

/** Statistics of a fuzz run. */
export interface FuzzStats {
  messages: number;
  replies: number;
  events: number;
  closes: number;
  bytes: number;
}

/** Runs `count` fuzzed messages (or until `deadline` ms from performance.now-like `now`), throwing on any broken invariant. */
export function fuzz(seed: number, count: number, now: () => number, deadline = Infinity): FuzzStats {
  const r = rng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
  const store = new XenStore({ quotas: { nodes: 200, watches: 20, transactions: 4 } });
  const stats: FuzzStats = { messages: 0, replies: 0, events: 0, closes: 0, bytes: 0 };
  interface Client { s: StreamSession; sent: number; got: number; closed: boolean; reader: MessageReader }
  const clients: Client[] = [];
  const open = (domid: number): Client => {
    const c: Client = { s: null as unknown as StreamSession, sent: 0, got: 0, closed: false, reader: new MessageReader() };
    c.s = new StreamSession(store, domid, {
      write: (b) => {
        stats.bytes += b.length;
        const f = c.reader.feed(b);
        // A write carries whole messages only (a request's events and reply may share one).
        if (f.error || f.messages.length === 0 || c.reader.pending) throw new Error('server wrote a malformed or partial message');
        for (const m of f.messages) {
          if (m.payload.length > PAYLOAD_MAX) throw new Error('reply over PAYLOAD_MAX');
          if (m.type === XsType.WATCH_EVENT) stats.events++;
          else {
            c.got++;
            stats.replies++;
          }
        }
      },
      close: () => {
        c.closed = true;
        stats.closes++;
      },
    });
    return c;
  };
  for (let d = 0; d < 4; d++) clients.push(open(d));

  const payload = (): Uint8Array => {
    const mode = r();
    if (mode < 0.1) {
      const n = Math.floor(r() * 64);
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
      return b;
    }
    const parts: string[] = [];
    const k = 1 + Math.floor(r() * 4);
    for (let i = 0; i < k; i++) {
      let p = r() < 0.7 ? '/' : '';
      const depth = Math.floor(r() * 5);
      for (let j = 0; j < depth; j++) p += (j ? '/' : '') + pick(WORDS);
      parts.push(p);
    }
    let s = parts.join('\0');
    if (r() < 0.85) s += '\0';
    if (r() < 0.05) s += 'z'.repeat(Math.floor(r() * 5000));
    return latin1Bytes(s.length > PAYLOAD_MAX ? s.substring(0, PAYLOAD_MAX) : s);
  };
  const types = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 25, 26, 99, 0xffffffff];
  const txIds = [0, 0, 0, 1, 2, 3, 0xffffffff];

  for (let i = 0; i < count && now() < deadline; i++) {
    let ci = Math.floor(r() * clients.length);
    if (clients[ci].closed) clients[ci] = open(ci);
    const c = clients[ci];
    const p = payload();
    const hdr = new DataView(new ArrayBuffer(HEADER_SIZE));
    hdr.setUint32(0, r() < 0.9 ? pick(types) : Math.floor(r() * 4294967296), true);
    hdr.setUint32(4, Math.floor(r() * 4294967296), true);
    hdr.setUint32(8, pick(txIds), true);
    const oversize = r() < 0.002;
    hdr.setUint32(12, oversize ? PAYLOAD_MAX + 1 + Math.floor(r() * 100000) : p.length, true);
    const msg = new Uint8Array(HEADER_SIZE + (oversize ? 0 : p.length));
    msg.set(new Uint8Array(hdr.buffer), 0);
    if (!oversize) msg.set(p, HEADER_SIZE);
    // Deliver in random chunks, as a socket or ring would.
    for (let off = 0; off < msg.length; ) {
      const n = 1 + Math.floor(r() * (r() < 0.5 ? 8 : msg.length));
      c.s.receive(msg.subarray(off, off + n));
      off += n;
    }
    stats.messages++;
    if (!oversize) c.sent++;
    if (!c.closed && c.got !== c.sent) throw new Error(`message ${i}: ${c.sent} requests but ${c.got} replies`);
    if (oversize && !c.closed) throw new Error('oversize message did not close the connection');
    if (oversize) c.s.end();
    if (i % 2000 === 0) verify(store);
  }
  verify(store);
  return stats;
}

/** Throws if the store's bookkeeping or structure is broken. */
export function verify(store: XenStore): void {
  const problems = checkStore(store, false);
  if (problems.length) throw new Error('store corrupt: ' + problems.join('; '));
  // dom0 may delete anything but the root (RM / is EINVAL), so the root must survive with its permissions.
  if (!lookup(store.snap.root, '/') || store.snap.root.perms.length === 0) throw new Error('root lost');
  const root = store.snap.root;
  walk(root, '/', (p, n) => {
    if (p !== '/' && (!/^[A-Za-z0-9\-/_@]+$/.test(p) || p.endsWith('/') || p.indexOf('//') >= 0)) throw new Error('invalid path in store: ' + p);
    // Lookups (served by readCache.ts once one root is read often enough) find exactly the tree's nodes.
    if (lookup(root, p) !== n) throw new Error('lookup of ' + p + ' disagrees with the tree');
  });
  let watchTotal = 0;
  store.watchIndex.forEach((l) => (watchTotal += l.length));
  let counted = 0;
  store.watchCounts.forEach((n) => (counted += n));
  if (watchTotal !== counted) throw new Error('watch accounting ' + counted + ' vs ' + watchTotal);
}
