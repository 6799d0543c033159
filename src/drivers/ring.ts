// Xen's generic shared request/response ring (io/ring.h): the transport every split-driver backend uses.
//
// Layout of the shared ring ("sring") in the page(s) the frontend grants:
//   0 req_prod, 4 req_event, 8 rsp_prod, 12 rsp_event (u32 each), 16..63 padding,
//   64.. the entries, each a union of one request and one response, nr_ents of them where
//   nr_ents is (ring bytes - 64) / entry size rounded down to a power of two.
// Indices are free-running u32 counters masked by nr_ents - 1 on use. Each side keeps a
// private producer (req_prod_pvt / rsp_prod_pvt) and publishes it with a "push"; the
// xxx_event fields say at which index the other side wants its next notification.
//
// The guest owns half of the fields and may write anything into them, so the back ring reads
// each guest-written index once per operation, checks it against what the ring can hold, and
// copies every request out before the caller parses it (no double fetch). A violation sets
// `fault` and stops the ring; the backend then disconnects the device. Misuse by the backend
// itself (a response with no request to answer) is a bug and throws RingError.

/** The sring header's size: entries start here. */
export const SRING_HEADER = 64;
const REQ_PROD = 0;
const REQ_EVENT = 4;
const RSP_PROD = 8;
const RSP_EVENT = 12;

/** Thrown for misuse by the hypervisor's own code (bad geometry, a response nobody asked for). */
export class RingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RingError';
  }
}

/** Saved private indices of one end of a ring (for save/restore). */
export interface RingState {
  /** The next index this end consumes (req_cons for a back ring, rsp_cons for a front ring). */
  cons: number;
  /** This end's private producer (rsp_prod_pvt or req_prod_pvt). */
  prodPvt: number;
  fault: string | null;
}

/** Returns the number of entries a ring of ringBytes holds for entries of entrySize bytes (io/ring.h __RING_SIZE). */
export function ringEntries(ringBytes: number, entrySize: number): number {
  if (!Number.isInteger(entrySize) || entrySize <= 0) throw new RingError(`bad ring entry size ${entrySize}`);
  const fit = Math.floor((ringBytes - SRING_HEADER) / entrySize);
  if (fit < 1) throw new RingError(`a ${ringBytes}-byte ring has no room for one ${entrySize}-byte entry`);
  let n = 1;
  while (n * 2 <= fit) n *= 2;
  return n;
}

/** Resets a shared ring as a frontend does before granting it (SHARED_RING_INIT): producers 0, events 1. */
export function initSharedRing(view: DataView): void {
  view.setUint32(REQ_PROD, 0, true);
  view.setUint32(REQ_EVENT, 1, true);
  view.setUint32(RSP_PROD, 0, true);
  view.setUint32(RSP_EVENT, 1, true);
}

/** u32 difference a - b of two free-running indices. */
function diff(a: number, b: number): number {
  return (a - b) >>> 0;
}

/**
 * The notification rule of RING_PUSH_{REQUESTS,RESPONSES}_AND_CHECK_NOTIFY: notify when
 * the other side's event index lies in (oldProd, newProd], i.e. it asked to hear about one
 * of the entries just published.
 */
export function needsNotify(oldProd: number, newProd: number, event: number): boolean {
  return diff(newProd, event) < diff(newProd, oldProd);
}

/** What the two ends share: the view, geometry, entry copying and the fault latch. */
abstract class RingEnd {
  /** Entries in the ring (a power of two). */
  readonly size: number;
  /** Set once the other side broke the protocol; the ring then does nothing. */
  fault: string | null = null;
  protected cons = 0;
  protected prodPvt = 0;

  constructor(
    protected readonly view: DataView,
    readonly entrySize: number,
  ) {
    this.size = ringEntries(view.byteLength, entrySize);
  }

  /** Byte offset in the view of the entry with free-running index idx. */
  entryOffset(idx: number): number {
    return SRING_HEADER + (idx & (this.size - 1)) * this.entrySize;
  }

  /** This end's private indices, for save/restore. */
  getState(): RingState {
    return { cons: this.cons, prodPvt: this.prodPvt, fault: this.fault };
  }

  /** Restores indices saved by getState; throws RingError on a malformed state. */
  setState(s: RingState): void {
    const u32 = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
    if (!s || !u32(s.cons) || !u32(s.prodPvt) || !(s.fault === null || typeof s.fault === 'string')) {
      throw new RingError(`bad ring state ${JSON.stringify(s)}`);
    }
    this.cons = s.cons;
    this.prodPvt = s.prodPvt;
    this.fault = s.fault;
  }

  protected u32(off: number): number {
    return this.view.getUint32(off, true);
  }

  protected setU32(off: number, v: number): void {
    this.view.setUint32(off, v >>> 0, true);
  }

  protected fail(message: string): void {
    if (this.fault === null) this.fault = message;
  }

  /** Copies the entry at idx out of shared memory, so later guest writes cannot change it. */
  protected copyEntry(idx: number): DataView {
    const at = this.view.byteOffset + this.entryOffset(idx);
    return new DataView(this.view.buffer.slice(at, at + this.entrySize));
  }

  /** Writes an entry into the slot at idx; bytes beyond entrySize are an error. */
  protected putEntry(idx: number, bytes: Uint8Array): void {
    if (bytes.length > this.entrySize) throw new RingError(`${bytes.length}-byte entry exceeds the ring's ${this.entrySize}`);
    new Uint8Array(this.view.buffer, this.view.byteOffset + this.entryOffset(idx), bytes.length).set(bytes);
  }
}

/** The backend's end: consumes requests, produces responses. */
export class BackRing extends RingEnd {
  /** Requests published by the frontend and not yet taken; 0 (and `fault` set) if it overran the ring. */
  unconsumedRequests(): number {
    if (this.fault !== null) return 0;
    const prod = this.u32(REQ_PROD);
    // RING_REQUEST_PROD_OVERFLOW: the frontend may not have more requests outstanding than
    // there are slots; any more would overwrite requests or responses still in use.
    if (diff(prod, this.prodPvt) > this.size) {
      this.fail(`req_prod ${prod} is ${diff(prod, this.prodPvt)} requests ahead of rsp_prod ${this.prodPvt} in a ${this.size}-entry ring`);
      return 0;
    }
    return diff(prod, this.cons);
  }

  /** Takes the next request as a private copy of its entry, or returns null when there is none. */
  takeRequest(): DataView | null {
    if (this.unconsumedRequests() === 0) return null;
    const entry = this.copyEntry(this.cons);
    this.cons = (this.cons + 1) >>> 0;
    return entry;
  }

  /** Queues a response in the next free slot (not yet visible to the frontend); throws if no request awaits one. */
  putResponse(bytes: Uint8Array): void {
    if (this.fault !== null) return;
    if (this.prodPvt === this.cons) throw new RingError('response queued with no request left to answer');
    this.putEntry(this.prodPvt, bytes);
    this.prodPvt = (this.prodPvt + 1) >>> 0;
  }

  /** Publishes queued responses and says whether the frontend asked to be notified (RING_PUSH_RESPONSES_AND_CHECK_NOTIFY). */
  pushResponses(): boolean {
    if (this.fault !== null) return false;
    const old = this.u32(RSP_PROD);
    this.setU32(RSP_PROD, this.prodPvt);
    return needsNotify(old, this.prodPvt, this.u32(RSP_EVENT));
  }

  /**
   * Says whether more requests are waiting; when there are none it first sets req_event
   * so that the frontend's next push notifies, then checks again, closing the race with a
   * request published in between (RING_FINAL_CHECK_FOR_REQUESTS).
   */
  finalCheckForRequests(): boolean {
    if (this.unconsumedRequests() > 0) return true;
    if (this.fault !== null) return false;
    this.setU32(REQ_EVENT, this.cons + 1);
    return this.unconsumedRequests() > 0;
  }
}

/** The frontend's end, as a guest driver runs it: produces requests, consumes responses (used by tests and loopback). */
export class FrontRing extends RingEnd {
  /** Slots free for new requests. */
  freeRequests(): number {
    return this.size - diff(this.prodPvt, this.cons);
  }

  /** Queues a request in the next slot; throws RingError when the ring is full. */
  putRequest(bytes: Uint8Array): void {
    if (this.freeRequests() === 0) throw new RingError('request ring is full');
    this.putEntry(this.prodPvt, bytes);
    this.prodPvt = (this.prodPvt + 1) >>> 0;
  }

  /** Publishes queued requests and says whether the backend asked to be notified. */
  pushRequests(): boolean {
    const old = this.u32(REQ_PROD);
    this.setU32(REQ_PROD, this.prodPvt);
    return needsNotify(old, this.prodPvt, this.u32(REQ_EVENT));
  }

  /** Responses published and not yet taken; 0 (and `fault` set) if the backend answered more than was asked. */
  unconsumedResponses(): number {
    if (this.fault !== null) return 0;
    const prod = this.u32(RSP_PROD);
    if (diff(prod, this.cons) > diff(this.prodPvt, this.cons)) {
      this.fail(`rsp_prod ${prod} runs ahead of the ${diff(this.prodPvt, this.cons)} requests outstanding`);
      return 0;
    }
    return diff(prod, this.cons);
  }

  /** Takes the next response as a private copy, or returns null when there is none. */
  takeResponse(): DataView | null {
    if (this.unconsumedResponses() === 0) return null;
    const entry = this.copyEntry(this.cons);
    this.cons = (this.cons + 1) >>> 0;
    return entry;
  }

  /** Like finalCheckForRequests, for responses (RING_FINAL_CHECK_FOR_RESPONSES). */
  finalCheckForResponses(): boolean {
    if (this.unconsumedResponses() > 0) return true;
    if (this.fault !== null) return false;
    this.setU32(RSP_EVENT, this.cons + 1);
    return this.unconsumedResponses() > 0;
  }
}
