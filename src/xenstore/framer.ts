// Incremental parser that turns a byte stream into XenStore messages, whatever the chunking.
import { HEADER_SIZE, Message, PAYLOAD_MAX } from './wire';

/** Result of feeding bytes: complete messages, and an error that must close the connection. */
export interface FeedResult {
  messages: Message[];
  /** Set when the stream is unusable (a length over PAYLOAD_MAX); later bytes are ignored. */
  error?: 'oversize';
}

const EMPTY = new Uint8Array(0);

/** Reassembles messages from arbitrary chunks; holds at most one partial message. */
export class MessageReader {
  private header = new Uint8Array(HEADER_SIZE);
  private headerUsed = 0;
  /** Payload length of the message being read, or -1 while reading a header. */
  private payloadLen = -1;
  private partial: Uint8Array | null = null;
  private partialUsed = 0;
  private type = 0;
  private reqId = 0;
  private txId = 0;
  private broken = false;

  /** Consumes a chunk and returns every message it completes. */
  feed(chunk: Uint8Array): FeedResult {
    const messages: Message[] = [];
    if (this.broken) return { messages, error: 'oversize' };
    let i = 0;
    const n = chunk.length;
    while (i < n || this.payloadLen === 0) {
      if (this.payloadLen < 0) {
        if (this.headerUsed === 0 && n - i >= HEADER_SIZE) {
          this.readHeader(chunk, i);
          i += HEADER_SIZE;
        } else {
          const take = Math.min(HEADER_SIZE - this.headerUsed, n - i);
          this.header.set(chunk.subarray(i, i + take), this.headerUsed);
          this.headerUsed += take;
          i += take;
          if (this.headerUsed < HEADER_SIZE) break;
          this.readHeader(this.header, 0);
          this.headerUsed = 0;
        }
        if (this.payloadLen > PAYLOAD_MAX) {
          this.broken = true;
          return { messages, error: 'oversize' };
        }
        continue;
      }
      if (this.payloadLen === 0) {
        messages.push(this.emit(EMPTY));
        continue;
      }
      if (this.partial === null) {
        if (n - i >= this.payloadLen) {
          // Whole payload in this chunk: copy once so the caller may reuse its buffer.
          const p = chunk.slice(i, i + this.payloadLen);
          i += this.payloadLen;
          messages.push(this.emit(p));
          continue;
        }
        this.partial = new Uint8Array(this.payloadLen);
        this.partialUsed = 0;
      }
      const take = Math.min(this.payloadLen - this.partialUsed, n - i);
      this.partial.set(chunk.subarray(i, i + take), this.partialUsed);
      this.partialUsed += take;
      i += take;
      if (this.partialUsed === this.payloadLen) {
        const p = this.partial;
        this.partial = null;
        messages.push(this.emit(p));
      }
    }
    return { messages };
  }

  /** Bytes still needed to complete the current header or payload (so a reader can take one message at a time). */
  get need(): number {
    if (this.payloadLen < 0) return HEADER_SIZE - this.headerUsed;
    return this.payloadLen - (this.partial ? this.partialUsed : 0);
  }

  /** True while part of a message is buffered. */
  get pending(): boolean {
    return this.headerUsed > 0 || this.payloadLen >= 0;
  }

  private readHeader(b: Uint8Array, at: number): void {
    const v = new DataView(b.buffer, b.byteOffset + at, HEADER_SIZE);
    this.type = v.getUint32(0, true);
    this.reqId = v.getUint32(4, true);
    this.txId = v.getUint32(8, true);
    this.payloadLen = v.getUint32(12, true);
  }

  private emit(payload: Uint8Array): Message {
    this.payloadLen = -1;
    return { type: this.type, reqId: this.reqId, txId: this.txId, payload };
  }
}
