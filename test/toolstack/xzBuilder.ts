// Builds .xz files around given LZMA2 data, and takes LZMA2 chunks out of real .xz files, for the XZ and bzImage tests.
import { crc32, crc64 } from '../../src/toolstack/xz/crc';

/** An XZ variable-length integer. */
export function vli(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

function le32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

function pad4(bytes: number[], from = 0): void {
  while ((bytes.length - from) % 4) bytes.push(0);
}

export interface BlockSpec {
  /** The LZMA2 data, end marker included. */
  lzma2: Uint8Array;
  /** The block's uncompressed data, for the check and the index. */
  data: Uint8Array;
  /** LZMA2 dictionary size property (default 20: 4 MiB). */
  dictProp?: number;
  /** Write compressed and uncompressed sizes into the block header. */
  sizes?: boolean;
  /** Filter flags to put before LZMA2's (id, size, properties), e.g. [0x04, 0x00] for x86. */
  preFilters?: number[];
}

/** Returns a one-stream .xz file with the given blocks and check type (0 none, 1 CRC32, 4 CRC64). */
export function xzFile(blocks: BlockSpec[], check: 0 | 1 | 4 = 1): Uint8Array {
  const flags = [0, check];
  const out: number[] = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, ...flags, ...le32(crc32(new Uint8Array(flags)))];
  const records: number[] = [];
  for (const b of blocks) {
    const pre = b.preFilters ?? [];
    const nFilters = 1 + (pre.length ? 1 : 0);
    const h: number[] = [0, (nFilters - 1) | (b.sizes ? 0xc0 : 0)];
    if (b.sizes) h.push(...vli(b.lzma2.length), ...vli(b.data.length));
    h.push(...pre, 0x21, 1, b.dictProp ?? 20);
    pad4(h);
    h[0] = (h.length + 4) / 4 - 1;
    h.push(...le32(crc32(new Uint8Array(h))));
    const blockStart = out.length;
    out.push(...h);
    for (const x of b.lzma2) out.push(x);
    pad4(out, blockStart);
    if (check === 1) out.push(...le32(crc32(b.data)));
    if (check === 4) {
      const [lo, hi] = crc64(b.data);
      out.push(...le32(lo), ...le32(hi));
    }
    records.push(h.length + b.lzma2.length + (check === 0 ? 0 : check === 1 ? 4 : 8), b.data.length);
  }
  const indexStart = out.length;
  out.push(0, ...vli(blocks.length));
  for (const r of records) out.push(...vli(r));
  pad4(out, indexStart);
  out.push(...le32(crc32(new Uint8Array(out.slice(indexStart)))));
  const backward = (out.length - indexStart) / 4 - 1;
  const tail = [...le32(backward), ...flags];
  out.push(...le32(crc32(new Uint8Array(tail))), ...tail, 0x59, 0x5a);
  return new Uint8Array(out);
}

/** LZMA2 data made of uncompressed chunks only (the first resets the dictionary). */
export function storedLzma2(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let p = 0; p < data.length; p += 65536) {
    const n = Math.min(65536, data.length - p);
    out.push(p === 0 ? 0x01 : 0x02, (n - 1) >> 8, (n - 1) & 0xff);
    for (const x of data.subarray(p, p + n)) out.push(x);
  }
  out.push(0);
  return new Uint8Array(out);
}

export interface Chunk {
  control: number;
  /** The whole chunk: control byte, sizes, properties byte if any, data. */
  bytes: Uint8Array;
}

/** Splits the LZMA2 data of a .xz file's first block into chunks (end marker excluded). */
export function firstBlockChunks(xz: Uint8Array): Chunk[] {
  let p = 12 + (xz[12] + 1) * 4;
  const chunks: Chunk[] = [];
  while (xz[p] !== 0) {
    const c = xz[p];
    let len: number;
    if (c >= 0x80) len = 5 + (c >= 0xc0 ? 1 : 0) + ((xz[p + 3] << 8) | xz[p + 4]) + 1;
    else len = 3 + ((xz[p + 1] << 8) | xz[p + 2]) + 1;
    chunks.push({ control: c, bytes: xz.slice(p, p + len) });
    p += len;
  }
  return chunks;
}

/**
 * Re-labels an LZMA chunk's resets: keeps its size bits, sets bits 5-6 to `reset` (0-3) and
 * adds or drops the properties byte as the new label needs (props supplies it when adding).
 */
export function relabel(chunk: Chunk, reset: number, props?: number): Uint8Array {
  const b = chunk.bytes;
  const hadProps = chunk.control >= 0xc0;
  const wantProps = reset >= 2;
  const head = [0x80 | (reset << 5) | (chunk.control & 0x1f), b[1], b[2], b[3], b[4]];
  if (wantProps) head.push(hadProps ? b[5] : (props as number));
  return new Uint8Array([...head, ...b.subarray(hadProps ? 6 : 5)]);
}

/** Concatenates byte arrays. */
export function concat(...parts: (Uint8Array | number[])[]): Uint8Array {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
