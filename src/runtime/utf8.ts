// UTF-8 encoding and decoding, one-shot and streaming (QuickJS 2021 has no TextDecoder).

const REPLACEMENT = 0xfffd;

/** Encodes a string as UTF-8 bytes; lone surrogates become U+FFFD as in TextEncoder. */
export function encodeUtf8(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    let cp = text.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        i++;
      }
    }
    if (cp >= 0xd800 && cp <= 0xdfff) cp = REPLACEMENT;
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 63));
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
    else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
  }
  return new Uint8Array(out);
}

/** Decodes UTF-8 fed in arbitrary chunks; a sequence split across chunks is kept until complete. */
export class Utf8Decoder {
  private pending: number[] = [];

  /** Decodes a chunk (a Uint8Array, or a string whose char codes are bytes 0-255). */
  feed(chunk: Uint8Array | string): string {
    let text = '';
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      const byte = typeof chunk === 'string' ? chunk.charCodeAt(i) & 0xff : chunk[i];
      text += this.push(byte);
    }
    return text;
  }

  /** Returns U+FFFD for a sequence cut off at the end of the stream, and resets. */
  flush(): string {
    const had = this.pending.length > 0;
    this.pending = [];
    return had ? String.fromCharCode(REPLACEMENT) : '';
  }

  private push(byte: number): string {
    const p = this.pending;
    if (p.length > 0) {
      if ((byte & 0xc0) === 0x80 && continuationOk(p, byte)) {
        p.push(byte);
        if (p.length < sequenceLength(p[0])) return '';
        this.pending = [];
        return fromCodePoint(assemble(p));
      }
      // An invalid continuation ends the broken sequence; the byte starts afresh.
      this.pending = [];
      return String.fromCharCode(REPLACEMENT) + this.push(byte);
    }
    if (byte < 0x80) return String.fromCharCode(byte);
    const len = sequenceLength(byte);
    if (len === 0) return String.fromCharCode(REPLACEMENT);
    this.pending = [byte];
    return '';
  }
}

/** Decodes a whole byte array as UTF-8 (invalid sequences become U+FFFD). */
export function decodeUtf8(bytes: Uint8Array): string {
  const d = new Utf8Decoder();
  // Decode in slices so the intermediate strings stay small.
  let out = '';
  for (let i = 0; i < bytes.length; i += 4096) out += d.feed(bytes.subarray(i, i + 4096));
  return out + d.flush();
}

function sequenceLength(lead: number): number {
  if (lead >= 0xc2 && lead <= 0xdf) return 2;
  if (lead >= 0xe0 && lead <= 0xef) return 3;
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  return 0;
}

// Rejects overlong forms, surrogates and code points above U+10FFFF at the second byte.
function continuationOk(p: number[], byte: number): boolean {
  if (p.length !== 1) return true;
  const lead = p[0];
  if (lead === 0xe0) return byte >= 0xa0;
  if (lead === 0xed) return byte <= 0x9f;
  if (lead === 0xf0) return byte >= 0x90;
  if (lead === 0xf4) return byte <= 0x8f;
  return true;
}

function assemble(p: number[]): number {
  if (p.length === 2) return ((p[0] & 0x1f) << 6) | (p[1] & 63);
  if (p.length === 3) return ((p[0] & 0x0f) << 12) | ((p[1] & 63) << 6) | (p[2] & 63);
  return ((p[0] & 0x07) << 18) | ((p[1] & 63) << 12) | ((p[2] & 63) << 6) | (p[3] & 63);
}

function fromCodePoint(cp: number): string {
  if (cp < 0x10000) return String.fromCharCode(cp);
  const v = cp - 0x10000;
  return String.fromCharCode(0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff));
}
