// A fake guest for ring tests: writes requests into and reads replies from an ArrayBuffer page like Linux's xenbus.
import { RING, RING_SIZE } from '../../src/xenstore/ring';
import { encodeMessage, Message, XsType } from '../../src/xenstore/wire';
import { MessageReader } from '../../src/xenstore/framer';
import { latin1Bytes } from '../../src/xenstore/bytes';

/** The guest side of a xenstore ring page. */
export class FakeGuest {
  readonly page = new DataView(new ArrayBuffer(4096));
  private reader = new MessageReader();
  private reqId = 1;

  /** Bytes the guest can still put in the request ring. */
  space(): number {
    return RING_SIZE - ((this.page.getUint32(RING.REQ_PROD, true) - this.page.getUint32(RING.REQ_CONS, true)) >>> 0);
  }

  /** Copies bytes into the request ring (as many as fit) and returns how many went in. */
  put(bytes: Uint8Array): number {
    const p = this.page;
    let prod = p.getUint32(RING.REQ_PROD, true);
    const n = Math.min(bytes.length, this.space());
    for (let i = 0; i < n; i++) p.setUint8(RING.REQ + ((prod + i) & (RING_SIZE - 1)), bytes[i]);
    prod = (prod + n) >>> 0;
    p.setUint32(RING.REQ_PROD, prod, true);
    return n;
  }

  /** Encodes a request ('|' = NUL) and puts it in the ring; returns its req_id. */
  request(type: keyof typeof XsType, payload: string, txId = 0): number {
    const id = this.reqId++;
    const b = encodeMessage({ type: XsType[type], reqId: id, txId, payload: latin1Bytes(payload.replace(/\|/g, '\0')) });
    if (this.put(b) !== b.length) throw new Error('request ring full');
    return id;
  }

  /** Drains the response ring and returns the complete messages in it. */
  take(): Message[] {
    const p = this.page;
    const cons = p.getUint32(RING.RSP_CONS, true);
    const prod = p.getUint32(RING.RSP_PROD, true);
    const n = (prod - cons) >>> 0;
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = p.getUint8(RING.RSP + ((cons + i) & (RING_SIZE - 1)));
    p.setUint32(RING.RSP_CONS, prod, true);
    return this.reader.feed(b).messages;
  }
}
