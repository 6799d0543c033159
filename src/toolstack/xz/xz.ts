// The .xz container: streams of blocks (filter chain x86 BCJ + LZMA2), their checks, the index and the stream footer.
//
// Layout (from "The .xz File Format" 1.1.0):
//   stream  = header(12) block* index footer(12), then stream padding (zero bytes, a
//             multiple of 4) before the next stream or the end of the file
//   header  = FD 37 7A 58 5A 00 | flags(2: 0x00, check type) | CRC32(flags)
//   block   = header((size byte + 1) * 4: flags, sizes, filters, zero padding, CRC32)
//             | compressed data | zero padding to 4 | check of the uncompressed data
//   index   = 0x00 | record count | (unpadded size, uncompressed size) per block
//             | zero padding to 4 | CRC32
//   footer  = CRC32(backward size, flags) | backward size ((index size / 4) - 1) | flags | "YZ"
// Integers in headers and the index are variable-length (7 bits per byte, low first).
import { x86BcjDecode } from './bcjX86';
import { crc32, crc64 } from './crc';
import { decodeLzma2, lzma2DictSize } from './lzma2';
import { LzmaDecoder } from './lzmaDecoder';
import { OutputBuffer } from './outputBuffer';
import { XzError } from './xzError';

export { XzError } from './xzError';

export interface XzOptions {
  /** Decoding fails with XzError rather than produce more than this many bytes. */
  maxOutput: number;
  /** The expected output size, when known: the output array is allocated once at this size. */
  sizeHint?: number;
}

const HEADER_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const CHECK_NONE = 0;
const CHECK_CRC32 = 1;
const CHECK_CRC64 = 4;
const CHECK_SHA256 = 10;
const FILTER_X86 = 0x04;
const FILTER_LZMA2 = 0x21;
const FILTER_NAMES: { [id: number]: string } = { 3: 'delta', 4: 'x86', 5: 'PowerPC', 6: 'IA-64', 7: 'ARM', 8: 'ARM-Thumb', 9: 'SPARC', 10: 'ARM64', 11: 'RISC-V' };

/** Size in bytes of a check field by check type: 0, then 4, 8, 16, 32, 64 bytes in groups of three. */
function checkSize(type: number): number {
  return type === 0 ? 0 : 4 << Math.floor((type - 1) / 3);
}

function checkName(type: number): string {
  return type === CHECK_NONE ? 'none' : type === CHECK_CRC32 ? 'CRC32' : type === CHECK_CRC64 ? 'CRC64' : type === CHECK_SHA256 ? 'SHA-256' : `type ${type}`;
}

function u32le(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

/** Reads variable-length integers within [pos, end), as the format encodes sizes and counts. */
class VliReader {
  constructor(private readonly b: Uint8Array, public pos: number, private readonly end: number, private readonly what: string) {}

  /** Reads one integer; throws XzError when it is truncated, not minimal or above 2^53. */
  next(): number {
    let value = 0;
    let scale = 1;
    for (let n = 0; n < 9; n++) {
      if (this.pos >= this.end) throw new XzError(`truncated ${this.what} at offset ${this.pos}`);
      const byte = this.b[this.pos++];
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) {
        // A zero last byte after others would be a longer-than-needed encoding, which is invalid.
        if (byte === 0 && n > 0) throw new XzError(`corrupt ${this.what} at offset ${this.pos - 1}: non-minimal integer`);
        if (value > Number.MAX_SAFE_INTEGER) throw new XzError(`${this.what} at offset ${this.pos - 1}: integer too large`);
        return value;
      }
      scale *= 128;
    }
    throw new XzError(`corrupt ${this.what} at offset ${this.pos - 1}: integer longer than 9 bytes`);
  }
}

interface Filter {
  id: number;
  /** x86: the start offset property (0 when absent). */
  startOffset: number;
  /** LZMA2: the dictionary size. */
  dictSize: number;
}

interface BlockHeader {
  size: number;
  compressedSize: number | null;
  uncompressedSize: number | null;
  filters: Filter[];
}

/** Reads the two stream flag bytes at input[at]; the header protects them with the CRC32 after them. */
function readStreamFlags(input: Uint8Array, at: number, what: string): number {
  // The first flag byte and the high nibble of the second are reserved and must be zero.
  if (input[at] !== 0 || input[at + 1] > 0x0f) throw new XzError(`${what} at offset ${at}: unsupported stream flags`);
  return input[at + 1];
}

function readFilter(r: VliReader, headerEnd: number, input: Uint8Array, isLast: boolean): Filter {
  const at = r.pos;
  const id = r.next();
  const propsSize = r.next();
  if (propsSize > headerEnd - r.pos) throw new XzError(`corrupt block header: filter properties at offset ${r.pos} overrun the header`);
  const props = r.pos;
  r.pos += propsSize;
  if (id === FILTER_LZMA2) {
    if (!isLast) throw new XzError(`unsupported filter chain at offset ${at}: LZMA2 must be the last filter`);
    if (propsSize !== 1) throw new XzError(`corrupt block header at offset ${at}: LZMA2 properties are ${propsSize} bytes, not 1`);
    // Bits 6-7 of the dictionary property are reserved.
    if (input[props] & 0xc0) throw new XzError(`corrupt block header at offset ${at}: invalid LZMA2 dictionary size property ${input[props]}`);
    return { id, startOffset: 0, dictSize: lzma2DictSize(input[props]) };
  }
  if (isLast) throw new XzError(`unsupported filter chain at offset ${at}: the last filter is ${FILTER_NAMES[id] || 'filter 0x' + id.toString(16)}, not LZMA2`);
  if (id === FILTER_X86) {
    if (propsSize !== 0 && propsSize !== 4) throw new XzError(`corrupt block header at offset ${at}: x86 filter properties are ${propsSize} bytes`);
    return { id, startOffset: propsSize === 4 ? u32le(input, props) : 0, dictSize: 0 };
  }
  const name = FILTER_NAMES[id];
  throw new XzError(`unsupported filter at offset ${at}: ${name ? name + ' (0x' + id.toString(16) + ')' : '0x' + id.toString(16)}; only x86 BCJ and LZMA2 are supported`);
}

function readBlockHeader(input: Uint8Array, at: number): BlockHeader {
  const size = (input[at] + 1) * 4;
  if (input.length - at < size) throw new XzError(`truncated block header at offset ${at}`);
  if (crc32(input, at, at + size - 4) !== u32le(input, at + size - 4)) throw new XzError(`block header at offset ${at}: CRC32 mismatch`);
  const flags = input[at + 1];
  if (flags & 0x3c) throw new XzError(`block header at offset ${at}: unsupported flags 0x${flags.toString(16)}`);
  const end = at + size - 4;
  const r = new VliReader(input, at + 2, end, 'block header');
  const compressedSize = flags & 0x40 ? r.next() : null;
  const uncompressedSize = flags & 0x80 ? r.next() : null;
  if (compressedSize === 0) throw new XzError(`corrupt block header at offset ${at}: compressed size 0`);
  const count = (flags & 3) + 1;
  const filters: Filter[] = [];
  for (let k = 0; k < count; k++) filters.push(readFilter(r, end, input, k === count - 1));
  for (let q = r.pos; q < end; q++) {
    if (input[q] !== 0) throw new XzError(`corrupt block header at offset ${at}: non-zero padding`);
  }
  return { size, compressedSize, uncompressedSize, filters };
}

/** Verifies the check of out[start, end) stored at input[at]. */
function verifyCheck(type: number, input: Uint8Array, at: number, out: Uint8Array, start: number, end: number): void {
  if (type === CHECK_CRC32) {
    if (crc32(out, start, end) !== u32le(input, at)) throw new XzError(`block check at offset ${at}: CRC32 mismatch (data is corrupt)`);
  } else if (type === CHECK_CRC64) {
    const [lo, hi] = crc64(out, start, end);
    if (lo !== u32le(input, at) || hi !== u32le(input, at + 4)) throw new XzError(`block check at offset ${at}: CRC64 mismatch (data is corrupt)`);
  }
}

/** Decodes the stream starting at input[at] onto out; returns the offset after its footer. */
function decodeStream(input: Uint8Array, at: number, out: OutputBuffer, lzma: LzmaDecoder): number {
  for (let k = 0; k < 6 && at + k < input.length; k++) {
    if (input[at + k] !== HEADER_MAGIC[k]) throw new XzError(at === 0 ? 'not XZ data (bad magic)' : `garbage after the stream at offset ${at}`);
  }
  if (input.length - at < 12) throw new XzError(`truncated stream header at offset ${at}`);
  if (crc32(input, at + 6, at + 8) !== u32le(input, at + 8)) throw new XzError(`stream header at offset ${at}: CRC32 mismatch`);
  const flags = readStreamFlags(input, at + 6, 'stream header');
  const check = flags & 0x0f;
  if (check !== CHECK_NONE && check !== CHECK_CRC32 && check !== CHECK_CRC64) {
    throw new XzError(`unsupported integrity check ${checkName(check)} in stream at offset ${at}: only none, CRC32 and CRC64 are supported`);
  }
  const csize = checkSize(check);
  const records: number[] = [];
  let p = at + 12;
  for (;;) {
    if (p >= input.length) throw new XzError(`truncated stream: no index by offset ${p}`);
    if (input[p] === 0) break; // index indicator
    const blockAt = p;
    const h = readBlockHeader(input, p);
    const dataAt = p + h.size;
    const last = h.filters[h.filters.length - 1];
    const limit = h.compressedSize === null ? input.length : Math.min(input.length, dataAt + h.compressedSize);
    const outStart = out.pos;
    if (h.uncompressedSize !== null && h.uncompressedSize <= out.max - out.pos) out.ensure(h.uncompressedSize);
    const dataEnd = decodeLzma2(input, dataAt, limit, out, last.dictSize, lzma);
    const compressed = dataEnd - dataAt;
    const uncompressed = out.pos - outStart;
    if (h.compressedSize !== null && compressed !== h.compressedSize) {
      throw new XzError(`block at offset ${blockAt}: ${compressed} compressed bytes, header says ${h.compressedSize}`);
    }
    if (h.uncompressedSize !== null && uncompressed !== h.uncompressedSize) {
      throw new XzError(`block at offset ${blockAt}: ${uncompressed} uncompressed bytes, header says ${h.uncompressedSize}`);
    }
    // Filters other than the last were applied before LZMA2 when encoding: undo them after it, last first.
    for (let k = h.filters.length - 2; k >= 0; k--) x86BcjDecode(out.buf, outStart, out.pos, h.filters[k].startOffset);
    p = dataEnd;
    while ((p - blockAt) & 3) {
      if (p >= input.length) throw new XzError(`truncated block padding at offset ${p}`);
      if (input[p++] !== 0) throw new XzError(`corrupt block padding at offset ${p - 1}`);
    }
    if (input.length - p < csize) throw new XzError(`truncated block check at offset ${p}`);
    verifyCheck(check, input, p, out.buf, outStart, out.pos);
    p += csize;
    records.push(h.size + compressed + csize, uncompressed);
  }
  const indexAt = p;
  p = readIndex(input, p, records);
  if (input.length - p < 12) throw new XzError(`truncated stream footer at offset ${p}`);
  if (crc32(input, p + 4, p + 10) !== u32le(input, p)) throw new XzError(`stream footer at offset ${p}: CRC32 mismatch`);
  if ((u32le(input, p + 4) + 1) * 4 !== p - indexAt) throw new XzError(`stream footer at offset ${p}: backward size does not match the index`);
  if (input[p + 10] !== 0x59 || input[p + 11] !== 0x5a) throw new XzError(`stream footer at offset ${p}: bad magic`);
  if (readStreamFlags(input, p + 8, 'stream footer') !== flags) throw new XzError(`stream footer at offset ${p}: flags differ from the header's`);
  return p + 12;
}

/** Checks the index at input[at] against the blocks decoded; returns the offset after it. */
function readIndex(input: Uint8Array, at: number, records: number[]): number {
  const r = new VliReader(input, at + 1, input.length, 'index');
  const count = r.next();
  if (count !== records.length / 2) throw new XzError(`index at offset ${at}: lists ${count} blocks, the stream has ${records.length / 2}`);
  for (let k = 0; k < records.length; k += 2) {
    const unpadded = r.next();
    const uncompressed = r.next();
    if (unpadded !== records[k] || uncompressed !== records[k + 1]) {
      throw new XzError(`index at offset ${at}: record ${k / 2} (${unpadded}, ${uncompressed}) does not match the block (${records[k]}, ${records[k + 1]})`);
    }
  }
  let p = r.pos;
  while ((p - at) & 3) {
    if (p >= input.length) throw new XzError(`truncated index at offset ${p}`);
    if (input[p++] !== 0) throw new XzError(`corrupt index padding at offset ${p - 1}`);
  }
  if (input.length - p < 4) throw new XzError(`truncated index at offset ${p}`);
  if (crc32(input, at, p) !== u32le(input, p)) throw new XzError(`index at offset ${at}: CRC32 mismatch`);
  return p + 4;
}

/** Decompresses a complete .xz file (one or more streams) and returns the data; throws XzError on anything invalid. */
export function xzDecompress(input: Uint8Array, options: XzOptions): Uint8Array {
  const max = options.maxOutput;
  const initial = options.sizeHint !== undefined ? options.sizeHint : Math.min(max, input.length * 4);
  const out = new OutputBuffer(initial, max);
  const lzma = new LzmaDecoder();
  let p = decodeStream(input, 0, out, lzma);
  while (p < input.length) {
    // Stream padding: zero bytes in multiples of four, then possibly another stream.
    const padAt = p;
    while (p < input.length && input[p] === 0) p++;
    if ((p - padAt) & 3) throw new XzError(`stream padding at offset ${padAt} is not a multiple of 4 bytes`);
    if (p < input.length) p = decodeStream(input, p, out, lzma);
  }
  return out.buf.subarray(0, out.pos);
}
