// CRC32 (IEEE 802.3) and CRC64 (ECMA-182), the integrity checks XZ uses, over byte ranges of a Uint8Array.
//
// Both are the reflected (LSB-first) forms, table-driven one byte at a time. CRC64 is kept
// as two 32-bit halves because QuickJS and V8 are fastest on 32-bit integers (no BigInt).

const CRC32_POLY = 0xedb88320;
// ECMA-182's polynomial 0x42F0E1EBA9EA3693, bit-reversed: 0xC96C5795D7870F42, as halves.
const CRC64_POLY_HI = 0xc96c5795;
const CRC64_POLY_LO = 0xd7870f42;

let crc32Table: Int32Array | null = null;
let crc64Lo: Int32Array | null = null;
let crc64Hi: Int32Array | null = null;

/**
 * Eight 256-entry tables ("slicing by 8"): table k maps a byte to its CRC contribution after
 * k more zero bytes, so one step folds in eight bytes with eight independent lookups. This
 * cuts the interpreter's work per byte about in half against the one-table loop.
 */
function makeCrc32Table(): Int32Array {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ CRC32_POLY : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) t[k * 256 + n] = t[(t[(k - 1) * 256 + n] & 0xff)] ^ (t[(k - 1) * 256 + n] >>> 8);
  }
  return t;
}

function makeCrc64Tables(): void {
  const lo = new Int32Array(256);
  const hi = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let l = n;
    let h = 0;
    for (let k = 0; k < 8; k++) {
      const carry = l & 1;
      l = (l >>> 1) | (h << 31);
      h = h >>> 1;
      if (carry) {
        l ^= CRC64_POLY_LO;
        h ^= CRC64_POLY_HI;
      }
    }
    lo[n] = l;
    hi[n] = h;
  }
  crc64Lo = lo;
  crc64Hi = hi;
}

/** Returns the CRC32 of bytes[start, end) as an unsigned 32-bit number. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const t = crc32Table || (crc32Table = makeCrc32Table());
  let c = -1;
  let i = start;
  for (const end8 = end - 8; i <= end8; i += 8) {
    const lo = c ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    c = t[1792 + (lo & 0xff)] ^ t[1536 + ((lo >>> 8) & 0xff)] ^ t[1280 + ((lo >>> 16) & 0xff)] ^ t[1024 + (lo >>> 24)] ^
      t[768 + bytes[i + 4]] ^ t[512 + bytes[i + 5]] ^ t[256 + bytes[i + 6]] ^ t[bytes[i + 7]];
  }
  for (; i < end; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** Returns the CRC64 of bytes[start, end) as [low 32 bits, high 32 bits], both unsigned. */
export function crc64(bytes: Uint8Array, start = 0, end = bytes.length): [number, number] {
  if (!crc64Lo) makeCrc64Tables();
  const tl = crc64Lo as Int32Array;
  const th = crc64Hi as Int32Array;
  let lo = -1;
  let hi = -1;
  for (let i = start; i < end; i++) {
    const x = (lo ^ bytes[i]) & 0xff;
    lo = tl[x] ^ ((lo >>> 8) | (hi << 24));
    hi = th[x] ^ (hi >>> 8);
  }
  return [~lo >>> 0, ~hi >>> 0];
}
