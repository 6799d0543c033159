// The XZ decoder: files made by xz (test/files/xz), hand-built LZMA2 chunk sequences, every kind of corruption, and QuickJS.
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'fs';
import path from 'path';
import { x86BcjDecode } from '../../src/toolstack/xz/bcjX86';
import { crc32, crc64 } from '../../src/toolstack/xz/crc';
import { xzDecompress, XzError } from '../../src/toolstack/xz/xz';
import { codeWithoutComments, expectNoneIn, NODE_IMPORT, runEntryInQuickJS } from '../quickjsHarness';
import { concat, firstBlockChunks, relabel, storedLzma2, xzFile } from './xzBuilder';

const dir = path.resolve(__dirname, '../files/xz');
const file = (name: string): Uint8Array => new Uint8Array(readFileSync(path.join(dir, name)));
const text = file('text.txt');
const code = file('code.bin');
const random = file('random.bin');
const MAX = 1 << 26;
const decode = (input: Uint8Array, maxOutput = MAX): Uint8Array => xzDecompress(input, { maxOutput });
const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

/** `seq 0 399999` output. */
function seqText(): Uint8Array {
  let s = '';
  for (let i = 0; i < 400000; i++) s += i + '\n';
  return new TextEncoder().encode(s);
}

/** A copy of bytes with a mutation applied. */
function patched(bytes: Uint8Array, mutate: (b: Uint8Array) => void): Uint8Array {
  const b = bytes.slice();
  mutate(b);
  return b;
}

/** Stores CRC32(b[from, to)) at b[at] (default: right after the range), after editing a CRC-protected field. */
function fixCrc(b: Uint8Array, from: number, to: number, at = to): void {
  new DataView(b.buffer, b.byteOffset).setUint32(at, crc32(b, from, to), true);
}

/** Offsets of a one-stream, one-block file's parts. */
function layout(xz: Uint8Array): { headerSize: number; data: number; index: number; footer: number } {
  const headerSize = (xz[12] + 1) * 4;
  const footer = xz.length - 12;
  const backward = new DataView(xz.buffer, xz.byteOffset).getUint32(footer + 4, true);
  return { headerSize, data: 12 + headerSize, index: footer - (backward + 1) * 4, footer };
}

describe('checksums', () => {
  test('CRC32 and CRC64 of "123456789" are the standard check values', () => {
    const nine = new TextEncoder().encode('123456789');
    expect(crc32(nine)).toBe(0xcbf43926);
    // ECMA-182 reflected CRC64 (as XZ uses) check value 0x995DC9BBDF1939FA.
    expect(crc64(nine)).toEqual([0xdf1939fa, 0x995dc9bb]);
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(concat([0xff], nine, [0xff]), 1, 10)).toBe(0xcbf43926);
  });
});

describe('files made by xz', () => {
  test.each([
    ['text.crc32-0.xz', text, '-0, CRC32'],
    ['text.crc64-9.xz', text, '-9, CRC64'],
    ['text.none-6.xz', text, 'no check'],
    ['text.lc0-lp2-pb0.xz', text, 'lc=0 lp=2 pb=0'],
    ['text.lc4-lp0-pb4.xz', text, 'lc=4 pb=4'],
    ['text.lc1-lp3-pb1.xz', text, 'lc=1 lp=3'],
    ['text.blocks.xz', text, 'six blocks with sizes in their headers'],
    ['code.x86.xz', code, 'x86 BCJ filter'],
    ['code.x86-start.xz', code, 'x86 BCJ filter with start offset 4096'],
    ['code.9e.xz', code, '-9e'],
    ['random.xz', random, 'incompressible: uncompressed chunks'],
  ])('%s (%s) decodes to its source', (name, source) => {
    expect(same(decode(file(name)), source)).toBe(true);
  });

  test('seq.xz: 2.7 MB in an LZMA chunk with a dictionary reset and one continuing without any reset', () => {
    const chunks = firstBlockChunks(file('seq.xz'));
    expect(chunks.map((c) => c.control >> 5)).toEqual([7, 4]);
    expect(same(decode(file('seq.xz')), seqText())).toBe(true);
  });

  test('an empty file has no blocks and decodes to nothing', () => {
    expect(decode(file('empty.xz'))).toHaveLength(0);
  });

  test('the output limit: exactly the size is enough, one byte less is refused', () => {
    expect(decode(file('text.crc64-9.xz'), text.length)).toHaveLength(text.length);
    expect(() => decode(file('text.crc64-9.xz'), text.length - 1)).toThrow(`decompressed data exceeds the limit of ${text.length - 1} bytes`);
    expect(() => decode(file('seq.xz'), 1 << 20)).toThrow(/exceeds the limit of 1048576 bytes/);
    // A wrong size hint only costs a reallocation.
    expect(same(xzDecompress(file('seq.xz'), { maxOutput: MAX, sizeHint: 10 }), seqText())).toBe(true);
  });
});

describe('LZMA2 chunk sequences built from xz output', () => {
  const lc3 = firstBlockChunks(file('text.crc32-0.xz'))[0]; // 0xE0, lc=3 lp=0 pb=2
  const lc0 = firstBlockChunks(file('text.lc0-lp2-pb0.xz'))[0]; // 0xE0, lc=0 lp=2 pb=0
  // These chunks were encoded with an empty dictionary, so they decode the same after other
  // data as long as nothing they depend on changes: with lc=0 the previous byte is not used,
  // and every prefix below is a multiple of 16 bytes, so position bits are unchanged.
  const block = (lzma2: Uint8Array, data: Uint8Array): Uint8Array => xzFile([{ lzma2, data, sizes: true }], 4);

  test('xz wrote the chunks as expected', () => {
    expect(lc3.control).toBe(0xe0);
    expect(lc3.bytes[5]).toBe((2 * 5 + 0) * 9 + 3);
    expect(lc0.bytes[5]).toBe((0 * 5 + 2) * 9 + 0);
  });

  test('uncompressed chunk with a dictionary reset, then new properties without one (0x01, 0xC0)', () => {
    // The prefix ends in a 0 byte: the first literal then sees the same previous byte (none = 0).
    const prefix = new Uint8Array(32).fill(0x41);
    prefix[31] = 0;
    const lzma2 = concat([0x01, 0, 31], prefix, relabel(lc3, 2), [0]);
    expect(same(decode(block(lzma2, concat(prefix, text))), concat(prefix, text))).toBe(true);
  });

  test('an LZMA chunk, then another with new properties but the same dictionary (0xE0, 0xC0)', () => {
    const lzma2 = concat(lc3.bytes, relabel(lc0, 2), [0]);
    expect(same(decode(block(lzma2, concat(text, text))), concat(text, text))).toBe(true);
  });

  test('an uncompressed chunk without reset, then a state reset keeping the properties (0xE0, 0x02, 0xA0)', () => {
    const middle = new Uint8Array(16).fill(7);
    const lzma2 = concat(lc0.bytes, [0x02, 0, 15], middle, relabel(lc0, 1), [0]);
    const expected = concat(text, middle, text);
    expect(same(decode(block(lzma2, expected)), expected)).toBe(true);
  });

  test('several uncompressed chunks (0x01, 0x02, 0x02) with sizes in the header and CRC64', () => {
    const data = concat(code, code, text);
    expect(same(decode(xzFile([{ lzma2: storedLzma2(data), data, sizes: true }], 4)), data)).toBe(true);
  });

  test.each([
    ['an invalid control byte', concat([0x01, 0, 3, 1, 2, 3, 4], [0x03, 0, 0], [0]), /invalid control byte 0x3/],
    ['a first chunk without a dictionary reset', concat([0x02, 0, 3, 1, 2, 3, 4], [0]), /first chunk does not reset the dictionary/],
    ['an LZMA chunk without properties after a dictionary reset', concat([0x01, 0, 15], new Uint8Array(16), relabel(lc0, 1), [0]), /LZMA chunk without properties/],
    ['a properties byte of 225', concat(relabel(lc3, 3).slice(0, 5), [225], lc3.bytes.subarray(6), [0]), /invalid LZMA properties byte 225/],
    ['lc + lp above 4 (lc 3, lp 2)', concat(relabel(lc3, 3).slice(0, 5), [(0 * 5 + 2) * 9 + 3], lc3.bytes.subarray(6), [0]), /lc 3 \+ lp 2 exceeds 4/],
    ['no end marker', lc3.bytes, /truncated LZMA2 data/],
    ['a truncated uncompressed chunk', new Uint8Array([0x01, 0x10, 0x00, 1, 2, 3]), /truncated uncompressed LZMA2 chunk/],
  ])('%s is refused', (_name, lzma2, message) => {
    expect(() => decode(block(lzma2, text))).toThrow(message);
  });

  test('a packed size one byte short or long is refused', () => {
    for (const delta of [-1, 1]) {
      const b = lc3.bytes.slice();
      const packed = ((b[3] << 8) | b[4]) + delta;
      b[3] = packed >> 8;
      b[4] = packed & 0xff;
      const lzma2 = delta > 0 ? concat(b, [0, 0]) : concat(b.subarray(0, b.length - 1), [0]);
      expect(() => decode(block(lzma2, text))).toThrow(XzError);
    }
  });

  test('an unpacked size one byte short or long is refused', () => {
    for (const delta of [-1, 1]) {
      const b = lc3.bytes.slice();
      const unpacked = ((b[1] << 8) | b[2]) + delta;
      b[1] = unpacked >> 8;
      b[2] = unpacked & 0xff;
      expect(() => decode(block(concat(b, [0]), text))).toThrow(/corrupt LZMA/);
    }
  });
});

describe('streams', () => {
  const a = file('text.crc32-0.xz');
  const b = file('random.xz');

  test('concatenated streams with stream padding decode to the concatenation', () => {
    const out = decode(concat(a, [0, 0, 0, 0], b, new Uint8Array(8), file('empty.xz'), a));
    expect(same(out, concat(text, random, text))).toBe(true);
  });

  test('padding that is not a multiple of 4, and garbage after a stream, are refused', () => {
    expect(() => decode(concat(a, [0, 0], b))).toThrow(/stream padding at offset \d+ is not a multiple of 4/);
    expect(() => decode(concat(a, [0, 0, 0]))).toThrow(/not a multiple of 4/);
    expect(() => decode(concat(a, [1, 2, 3, 4]))).toThrow(`garbage after the stream at offset ${a.length}`);
  });

  test('block header sizes that disagree with the data are refused', () => {
    const data = text.subarray(0, 100);
    const good = xzFile([{ lzma2: storedLzma2(data), data, sizes: true }]);
    expect(same(decode(good), data)).toBe(true);
    // The uncompressed size VLI is the header's fourth byte (1 byte for 100).
    const c = patched(good, (x) => {
      x[12 + 2] += 1;
      fixCrc(x, 12, 12 + (x[12] + 1) * 4 - 4);
    });
    expect(() => decode(c)).toThrow(/compressed bytes, header says/);
    const u = patched(good, (x) => {
      x[12 + 3] += 1;
      fixCrc(x, 12, 12 + (x[12] + 1) * 4 - 4);
    });
    expect(() => decode(u)).toThrow(/100 uncompressed bytes, header says 101/);
  });
});

describe('corrupt and unsupported input', () => {
  const good = file('text.crc32-0.xz');
  const L = layout(good);

  test('not XZ at all', () => {
    expect(() => decode(new Uint8Array(0))).toThrow('truncated stream header at offset 0');
    expect(() => decode(new TextEncoder().encode('hello, world, not xz'))).toThrow('not XZ data (bad magic)');
  });

  test('every truncation of a file is refused with XzError', () => {
    for (let n = 0; n < good.length; n += n < 64 || n > good.length - 64 ? 1 : 97) {
      expect(() => decode(good.subarray(0, n))).toThrow(XzError);
    }
  });

  test('header, block, index and footer CRCs are checked', () => {
    expect(() => decode(patched(good, (b) => (b[7] = 4)))).toThrow('stream header at offset 0: CRC32 mismatch');
    expect(() => decode(patched(good, (b) => (b[14] ^= 1)))).toThrow('block header at offset 12: CRC32 mismatch');
    expect(() => decode(patched(good, (b) => (b[L.index - 1] ^= 0x80)))).toThrow(`block check at offset ${L.index - 4}: CRC32 mismatch (data is corrupt)`);
    expect(() => decode(patched(good, (b) => (b[L.index + 1] ^= 1)))).toThrow(/index at offset \d+: (CRC32 mismatch|lists)/);
    expect(() => decode(patched(good, (b) => (b[L.footer] ^= 1)))).toThrow(`stream footer at offset ${L.footer}: CRC32 mismatch`);
    const c64 = file('text.crc64-9.xz');
    const L64 = layout(c64);
    expect(() => decode(patched(c64, (b) => (b[L64.index - 8] ^= 1)))).toThrow(`block check at offset ${L64.index - 8}: CRC64 mismatch`);
  });

  test('an index that disagrees with the blocks, a wrong backward size, a bad footer', () => {
    // The index's uncompressed size (49152 = 3 VLI bytes) is changed and its CRC fixed up.
    const idx = patched(good, (b) => {
      b[L.index + 4] ^= 1;
      fixCrc(b, L.index, L.footer - 4);
    });
    expect(() => decode(idx)).toThrow(/index at offset \d+: record 0 .* does not match the block/);
    const back = patched(good, (b) => {
      b[L.footer + 4] += 1;
      fixCrc(b, L.footer + 4, L.footer + 10, L.footer);
    });
    expect(() => decode(back)).toThrow(/backward size does not match the index/);
    expect(() => decode(patched(good, (b) => (b[L.footer + 11] = 0)))).toThrow(/stream footer at offset \d+: bad magic/);
    const flags = patched(good, (b) => {
      b[L.footer + 9] = 4;
      fixCrc(b, L.footer + 4, L.footer + 10, L.footer);
    });
    expect(() => decode(flags)).toThrow(/flags differ from the header's/);
  });

  test('bad properties: dictionary size 41, LZMA properties 225, reserved header flags', () => {
    const withHeader = (mutate: (b: Uint8Array) => void): Uint8Array => patched(good, (b) => {
      mutate(b);
      fixCrc(b, 12, 12 + L.headerSize - 4);
    });
    expect(() => decode(withHeader((b) => (b[16] = 41)))).toThrow('invalid LZMA2 dictionary size property 41');
    expect(() => decode(withHeader((b) => (b[13] |= 0x04)))).toThrow(/unsupported flags 0x4/);
    expect(() => decode(withHeader((b) => (b[15] = 2)))).toThrow(/LZMA2 properties are 2 bytes/);
    expect(() => decode(patched(good, (b) => (b[L.data + 5] = 225)))).toThrow('invalid LZMA properties byte 225');
    expect(() => decode(patched(good, (b) => (b[L.data + 6] = 1)))).toThrow(/range coder does not start with 0/);
  });

  test('unsupported checks and filters are named', () => {
    expect(() => decode(file('text.sha256.xz'))).toThrow('unsupported integrity check SHA-256 in stream at offset 0: only none, CRC32 and CRC64 are supported');
    expect(() => decode(file('code.delta.xz'))).toThrow(/unsupported filter at offset \d+: delta \(0x3\); only x86 BCJ and LZMA2 are supported/);
  });

  test('random corruption gives XzError or, with a check, the original data: never anything else', () => {
    let seed = 0x2545f491;
    const rnd = (n: number): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const cases: [Uint8Array, Uint8Array, boolean][] = [
      [file('code.x86.xz'), code, true],
      [good, text, true],
      [file('text.none-6.xz'), text, false],
    ];
    let failures = 0;
    for (let round = 0; round < 300; round++) {
      const [src, plain, checked] = cases[round % 3];
      const b = src.slice();
      const edits = 1 + rnd(3);
      for (let k = 0; k < edits; k++) b[rnd(b.length)] ^= 1 << rnd(8);
      try {
        const out = xzDecompress(b, { maxOutput: plain.length * 2 });
        if (checked) expect(same(out, plain)).toBe(true);
        expect(out.length).toBeLessThanOrEqual(plain.length * 2);
      } catch (e) {
        expect(e).toBeInstanceOf(XzError);
        failures++;
      }
    }
    expect(failures).toBeGreaterThan(250);
  });
});

describe('x86 BCJ decoder', () => {
  test('converts an absolute CALL/JMP target back to a relative one', () => {
    const b = new Uint8Array(32).fill(0x90);
    // At offset 0x10: E8 with absolute target 0x1234; the next instruction is at 0x15.
    b.set([0xe8, 0x34, 0x12, 0x00, 0x00], 0x10);
    x86BcjDecode(b, 0, b.length, 0);
    expect(Array.from(b.subarray(0x10, 0x15))).toEqual([0xe8, 0x1f, 0x12, 0x00, 0x00]);
    // A start offset moves every address; a negative result keeps 0xFF as its top byte.
    const c = new Uint8Array(16).fill(0x90);
    c.set([0xe9, 0x00, 0x00, 0x00, 0x00], 0);
    x86BcjDecode(c, 0, c.length, 0x100);
    expect(Array.from(c.subarray(0, 5))).toEqual([0xe9, 0xfb, 0xfe, 0xff, 0xff]);
  });

  test('leaves displacements outside +-16 MiB and the last four bytes alone', () => {
    const b = new Uint8Array(16).fill(0x90);
    b.set([0xe8, 0x00, 0x00, 0x00, 0x12], 0);
    b.set([0xe8, 0x01, 0x00, 0x00], 12);
    const before = b.slice();
    x86BcjDecode(b, 0, b.length, 0);
    expect(Array.from(b)).toEqual(Array.from(before));
  });

  test('decodes a sub-range in place without touching bytes around it', () => {
    const b = new Uint8Array(40).fill(0x90);
    b.set([0xe8, 0x05, 0x00, 0x00, 0x00], 10);
    x86BcjDecode(b, 10, 30, 0);
    // The operand's address counts from the range's start: 5 - (0 + 5) = 0.
    expect(Array.from(b.subarray(10, 15))).toEqual([0xe8, 0, 0, 0, 0]);
    expect(b[9]).toBe(0x90);
  });
});

describe('QuickJS', () => {
  test('the decoder and loader use no Node module and no built-in newer than QuickJS 2021-03-27', () => {
    for (const f of ['xz/xz.ts', 'xz/lzma2.ts', 'xz/lzmaDecoder.ts', 'xz/bcjX86.ts', 'xz/crc.ts', 'xz/outputBuffer.ts', 'xz/xzError.ts', 'bzImage.ts']) {
      const code = codeWithoutComments(`src/toolstack/${f}`);
      expectNoneIn(f, code, [NODE_IMPORT, /\.at\(/, /Object\.hasOwn\b/, /\.findLast(Index)?\(/, /\bBuffer\b/, /\bTextDecoder\b/, /\bTextEncoder\b/, /\.replaceAll\(/]);
    }
  });

  test('the decoder runs in real QuickJS (ES2020) and gives the same bytes as in Node', async () => {
    const input = file('code.x86.xz');
    const result = await runEntryInQuickJS(`
      import { xzDecompress } from './src/toolstack/xz/xz';
      import { crc32 } from './src/toolstack/xz/crc';
      const out = xzDecompress(new Uint8Array([${Array.from(input).join(',')}]), { maxOutput: 1 << 20 });
      let err = '';
      try { xzDecompress(new Uint8Array([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0, 0, 1, 0, 0, 0, 0]), { maxOutput: 10 }); } catch (e) { err = e.name + ': ' + e.message; }
      globalThis.result = JSON.stringify({ length: out.length, crc: crc32(out), err });
    `);
    expect(result).toEqual({ length: code.length, crc: crc32(code), err: 'XzError: stream header at offset 0: CRC32 mismatch' });
  });
});
