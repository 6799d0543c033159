// The decoder's output: one Uint8Array that grows in large steps up to a caller-given limit.

import { XzError } from './xzError';

/** A zeroed array of n bytes; an engine out of memory becomes an XzError that says how much was asked. */
function allocate(n: number): Uint8Array {
  try {
    return new Uint8Array(n);
  } catch (e) {
    throw new XzError(`cannot allocate ${n} bytes for the decompressed data: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Decoded bytes so far (buf[0, pos)); ensure() grows the array, never beyond max bytes. */
export class OutputBuffer {
  buf: Uint8Array;
  pos = 0;

  constructor(initial: number, readonly max: number) {
    this.buf = allocate(Math.max(0, Math.min(initial, max)));
  }

  /** Makes room for n more bytes, doubling the array (capped at max); throws XzError past max. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    if (need > this.max) throw new XzError(`decompressed data exceeds the limit of ${this.max} bytes`);
    const grown = allocate(Math.min(this.max, Math.max(need, this.buf.length * 2, 1 << 20)));
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
  }
}
