// The xenstore ring of a domain (struct xenstore_domain_interface) and the connection that serves it.
import { Connection, XenStore } from './state';
import { Message, encodeMessage, XsType } from './wire';
import { MessageReader } from './framer';
import { dispatch } from './host';
import { disconnect } from './domains';
import { removeAllWatches } from './watches';
import { dropAllTransactions } from './transaction';

/** Byte size of each of the two rings. */
export const RING_SIZE = 1024;
/** Offsets in the shared page (xs_wire.h). */
export const RING = {
  REQ: 0,
  RSP: 1024,
  REQ_CONS: 2048,
  REQ_PROD: 2052,
  RSP_CONS: 2056,
  RSP_PROD: 2060,
  SERVER_FEATURES: 2064,
  CONNECTION: 2068,
  ERROR: 2072,
  EVTCHN_PORT: 2076,
} as const;
/** server_features bits. */
export const FEATURE_RECONNECTION = 1;
export const FEATURE_ERROR = 2;
export const FEATURE_WATCHDEPTH = 4;
export const FEATURE_DOMID_ANY = 8;
/** connection field values. */
export const XENSTORE_CONNECTED = 0;
export const XENSTORE_RECONNECT = 1;
/** error field values. */
export const XENSTORE_ERROR_NONE = 0;
export const XENSTORE_ERROR_RINGIDX = 2;
export const XENSTORE_ERROR_PROTO = 3;

/** Features zazen's xenstore offers on every ring. */
export const SERVER_FEATURES = FEATURE_RECONNECTION | FEATURE_ERROR | FEATURE_WATCHDEPTH | FEATURE_DOMID_ANY;

interface Pending {
  bytes: Uint8Array;
  off: number;
  isReply: boolean;
  /** Set for ordinary watch events, to drop an identical one while it waits (as xenstored does). */
  eventKey?: string;
}

/**
 * Serves one domain over its ring page. The host calls `kick()` when the guest signals the store event
 * channel; `notify` is called when the server moved an index and the guest should be signalled.
 * The page is guest memory: every index is read once and checked before use, since the guest may change it.
 */
export class RingConnection {
  readonly conn: Connection;
  private reader = new MessageReader();
  private pending: Pending[] = [];
  private pendingKeys = new Set<string>();
  /** Set once the guest broke the protocol; the ring is then left alone, like xenstored's ignored connections. */
  broken = false;

  constructor(private readonly store: XenStore, domid: number, private readonly page: DataView, private readonly notify: () => void) {
    if (page.byteLength < 2080) throw new RangeError('xenstore ring: page view must cover 2080 bytes, got ' + page.byteLength);
    this.conn = store.connect(domid);
    this.conn.sink = (m) => this.queue(m);
    this.conn.onClose = () => {
      this.broken = true;
    };
    page.setUint32(RING.SERVER_FEATURES, SERVER_FEATURES, true);
  }

  /** Handles everything the guest has sent and sends what fits; call on every event from the guest. */
  kick(): void {
    if (this.broken) return;
    const p = this.page;
    let moved = false;
    if (p.getUint32(RING.CONNECTION, true) === XENSTORE_RECONNECT) {
      // The guest asks to start over (e.g. after kexec): forget its state, reset the indices, say we are back.
      removeAllWatches(this.store, this.conn);
      dropAllTransactions(this.store, this.conn);
      this.reader = new MessageReader();
      this.pending = [];
      this.pendingKeys.clear();
      this.conn.outstanding = 0;
      for (const off of [RING.REQ_CONS, RING.REQ_PROD, RING.RSP_CONS, RING.RSP_PROD]) p.setUint32(off, 0, true);
      p.setUint32(RING.CONNECTION, XENSTORE_CONNECTED, true);
      moved = true;
    }
    moved = this.flush() || moved;
    while (!this.broken && this.mayRead()) {
      const got = this.readSome();
      if (got < 0) break;
      if (got === 0) break;
      moved = true;
      moved = this.flush() || moved;
    }
    moved = this.flush() || moved;
    if (moved) this.notify();
  }

  /** Replies waiting for ring space. */
  get backlog(): number {
    return this.pending.length;
  }

  private mayRead(): boolean {
    // The outstanding-requests quota: stop taking requests while too many replies wait for the guest.
    if (this.conn.privileged) return true;
    const q = this.store.quota(this.conn.domid, 'outstanding');
    return q === 0 || this.conn.outstanding < q;
  }

  /** Reads at most one message's worth of bytes; returns bytes taken, 0 when the ring is empty, -1 on error. */
  private readSome(): number {
    const p = this.page;
    const cons = p.getUint32(RING.REQ_CONS, true);
    const prod = p.getUint32(RING.REQ_PROD, true);
    const avail = (prod - cons) >>> 0;
    if (avail > RING_SIZE) return this.fail(XENSTORE_ERROR_RINGIDX, 'request indices out of range');
    if (avail === 0) return 0;
    const n = Math.min(avail, this.reader.need);
    const chunk = new Uint8Array(n);
    const start = cons & (RING_SIZE - 1);
    const first = Math.min(n, RING_SIZE - start);
    const base = p.byteOffset + RING.REQ;
    chunk.set(new Uint8Array(p.buffer, base + start, first), 0);
    if (first < n) chunk.set(new Uint8Array(p.buffer, base, n - first), first);
    p.setUint32(RING.REQ_CONS, (cons + n) >>> 0, true);
    const r = this.reader.feed(chunk);
    if (r.error) return this.fail(XENSTORE_ERROR_PROTO, 'payload over 4096 bytes');
    for (const m of r.messages) {
      if (this.broken) break;
      dispatch(this.store, this.conn, m);
    }
    return n;
  }

  private fail(code: number, why: string): number {
    this.page.setUint32(RING.ERROR, code, true);
    this.broken = true;
    disconnect(this.store, this.conn);
    if (this.store.hooks.log) this.store.hooks.log('xenstore: dom' + this.conn.domid + ' ring ignored: ' + why);
    this.notify();
    return -1;
  }

  private queue(m: Message): void {
    if (this.broken) return;
    const isReply = m.type !== XsType.WATCH_EVENT;
    let eventKey: string | undefined;
    if (!isReply && m.payload[0] !== 64) {
      eventKey = String.fromCharCode.apply(null, m.payload as unknown as number[]);
      if (this.pendingKeys.has(eventKey)) return;
      this.pendingKeys.add(eventKey);
    }
    if (isReply) this.conn.outstanding++;
    this.pending.push({ bytes: encodeMessage(m), off: 0, isReply, eventKey });
  }

  /** Copies queued messages into the response ring as space allows; true if anything was written. */
  private flush(): boolean {
    if (this.pending.length === 0 || this.broken) return false;
    const p = this.page;
    const cons = p.getUint32(RING.RSP_CONS, true);
    let prod = p.getUint32(RING.RSP_PROD, true);
    const used = (prod - cons) >>> 0;
    if (used > RING_SIZE) {
      this.fail(XENSTORE_ERROR_RINGIDX, 'response indices out of range');
      return false;
    }
    let space = RING_SIZE - used;
    let wrote = false;
    const base = p.byteOffset + RING.RSP;
    const ring = new Uint8Array(p.buffer, base, RING_SIZE);
    while (space > 0 && this.pending.length > 0) {
      const head = this.pending[0];
      const n = Math.min(space, head.bytes.length - head.off);
      for (let i = 0; i < n; i++) ring[(prod + i) & (RING_SIZE - 1)] = head.bytes[head.off + i];
      head.off += n;
      prod = (prod + n) >>> 0;
      space -= n;
      wrote = true;
      if (head.off === head.bytes.length) {
        this.pending.shift();
        if (head.isReply) this.conn.outstanding--;
        if (head.eventKey !== undefined) this.pendingKeys.delete(head.eventKey);
      }
    }
    // Data first, then the index that publishes it.
    if (wrote) p.setUint32(RING.RSP_PROD, prod, true);
    return wrote;
  }
}
