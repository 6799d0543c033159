// Byte-string helpers for the wire protocol; QuickJS 2021 has no TextEncoder/TextDecoder.
import { encodeUtf8 } from '../runtime/utf8';

/** Returns the bytes of a string whose characters are all below 256 (one byte per character). */
export function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

/** Returns bytes [start, end) as a string with one character per byte. */
export function latin1String(b: Uint8Array, start = 0, end = b.length): string {
  let s = '';
  // Chunked so String.fromCharCode never gets an argument list long enough to overflow the stack.
  for (let i = start; i < end; i += 4096) {
    const stop = Math.min(end, i + 4096);
    s += String.fromCharCode.apply(null, b.subarray(i, stop) as unknown as number[]);
  }
  return s;
}

/** Encodes a JavaScript string as UTF-8 (the runtime's encoder; pure, no shim). */
export const utf8Bytes = encodeUtf8;

/** Decodes UTF-8, replacing malformed sequences with U+FFFD. */
export function utf8String(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; ) {
    const c = b[i];
    let cp = 0xfffd;
    let n = 1;
    if (c < 0x80) cp = c;
    else if (c >= 0xc2 && c < 0xe0 && i + 1 < b.length && (b[i + 1] & 0xc0) === 0x80) {
      cp = ((c & 31) << 6) | (b[i + 1] & 63);
      n = 2;
    } else if (c >= 0xe0 && c < 0xf0 && i + 2 < b.length && (b[i + 1] & 0xc0) === 0x80 && (b[i + 2] & 0xc0) === 0x80) {
      cp = ((c & 15) << 12) | ((b[i + 1] & 63) << 6) | (b[i + 2] & 63);
      n = 3;
    } else if (c >= 0xf0 && c < 0xf5 && i + 3 < b.length && (b[i + 1] & 0xc0) === 0x80 && (b[i + 2] & 0xc0) === 0x80 && (b[i + 3] & 0xc0) === 0x80) {
      cp = ((c & 7) << 18) | ((b[i + 1] & 63) << 12) | ((b[i + 2] & 63) << 6) | (b[i + 3] & 63);
      n = 4;
    }
    s += String.fromCodePoint(cp > 0x10ffff ? 0xfffd : cp);
    i += n;
  }
  return s;
}

/** Splits a payload into its NUL-terminated strings; bytes after the last NUL are ignored, as xenstored's get_strings does. */
export function nulStrings(p: Uint8Array): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i] === 0) {
      out.push(latin1String(p, start, i));
      start = i + 1;
    }
  }
  return out;
}

/** Counts the NUL bytes in a payload (xenstored's xenstore_count_strings). */
export function countNuls(p: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < p.length; i++) if (p[i] === 0) n++;
  return n;
}

/** Joins strings with a NUL after each one. */
export function nulJoin(items: readonly string[]): Uint8Array {
  let len = 0;
  for (const s of items) len += s.length + 1;
  const out = new Uint8Array(len);
  let o = 0;
  for (const s of items) {
    for (let i = 0; i < s.length; i++) out[o++] = s.charCodeAt(i) & 0xff;
    out[o++] = 0;
  }
  return out;
}

/** Parses an unsigned decimal like C's strtoul on a whole string; undefined when it is not one. */
export function parseDecimal(s: string): number | undefined {
  if (!/^[0-9]+$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Parses like C's atoi: optional space and sign, then leading digits; 0 when there are none. */
export function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?[0-9]+)/.exec(s);
  if (!m) return 0;
  const n = parseInt(m[1], 10);
  // atoi's int result: clamp like glibc's strtol then truncate to 32 bits.
  return Math.max(-2147483648, Math.min(2147483647, n));
}
