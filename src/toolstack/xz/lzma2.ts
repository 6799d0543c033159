// LZMA2: a sequence of chunks, each uncompressed or LZMA-compressed, with dictionary, state and property resets.
//
// Chunk control byte (from the XZ format's LZMA2 description):
//   0x00          end of the LZMA2 data
//   0x01 / 0x02   uncompressed chunk, with / without a dictionary reset; u16 BE size - 1 follows
//   0x80-0xFF     LZMA chunk: bits 0-4 are bits 16-20 of (unpacked size - 1), then u16 BE
//                 (unpacked size - 1) low bits and u16 BE (packed size - 1); bits 5-6 say what
//                 is reset: 0 nothing, 1 the state, 2 the state and new properties (a byte
//                 follows), 3 all that and the dictionary
//   0x03-0x7F     invalid
// The first chunk must reset the dictionary, and the first LZMA chunk after a dictionary
// reset must set properties, since nothing earlier defines them.
import { LzmaDecoder } from './lzmaDecoder';
import { OutputBuffer } from './outputBuffer';
import { XzError } from './xzError';

/** Returns the dictionary size an LZMA2 filter's one-byte property gives; throws XzError above 40. */
export function lzma2DictSize(prop: number): number {
  if (prop > 40) throw new XzError(`invalid LZMA2 dictionary size property ${prop}`);
  if (prop === 40) return 0xffffffff;
  return (2 | (prop & 1)) * 2 ** ((prop >>> 1) + 11);
}

/**
 * Decodes LZMA2 data starting at input[inPos] (ending by inEnd at the latest) onto out;
 * returns the input offset just after its end marker.
 */
export function decodeLzma2(input: Uint8Array, inPos: number, inEnd: number, out: OutputBuffer, dictSize: number, lzma: LzmaDecoder): number {
  let p = inPos;
  let dictStart = out.pos;
  let needDictReset = true;
  let needProps = true;
  for (;;) {
    if (p >= inEnd) throw new XzError(`truncated LZMA2 data: no end marker by offset ${inEnd}`);
    const at = p;
    const control = input[p++];
    if (control === 0x00) return p;
    if (control >= 0xe0 || control === 0x01) {
      needProps = true;
      needDictReset = false;
      dictStart = out.pos;
    } else if (needDictReset) {
      throw new XzError(`corrupt LZMA2 data at offset ${at}: the first chunk does not reset the dictionary`);
    }
    if (control >= 0x80) {
      const header = control >= 0xc0 ? 6 : 5;
      if (inEnd - p < header - 1) throw new XzError(`truncated LZMA2 chunk header at offset ${at}`);
      const unpacked = (control & 0x1f) * 65536 + ((input[p] << 8) | input[p + 1]) + 1;
      const packed = ((input[p + 2] << 8) | input[p + 3]) + 1;
      p += 4;
      if (control >= 0xc0) {
        lzma.setProperties(input[p++], at + 5);
        needProps = false;
      } else if (needProps) {
        throw new XzError(`corrupt LZMA2 data at offset ${at}: LZMA chunk without properties after a dictionary reset`);
      } else if (control >= 0xa0) {
        lzma.reset();
      }
      if (inEnd - p < packed) throw new XzError(`truncated LZMA2 chunk at offset ${at}: needs ${packed} bytes, ${inEnd - p} left`);
      out.ensure(unpacked);
      lzma.decodeChunk(input, p, p + packed, out.buf, out.pos, out.pos + unpacked, dictStart, dictSize);
      out.pos += unpacked;
      p += packed;
    } else if (control <= 0x02) {
      if (inEnd - p < 2) throw new XzError(`truncated LZMA2 chunk header at offset ${at}`);
      const size = ((input[p] << 8) | input[p + 1]) + 1;
      p += 2;
      if (inEnd - p < size) throw new XzError(`truncated uncompressed LZMA2 chunk at offset ${at}: needs ${size} bytes, ${inEnd - p} left`);
      out.ensure(size);
      out.buf.set(input.subarray(p, p + size), out.pos);
      out.pos += size;
      p += size;
    } else {
      throw new XzError(`corrupt LZMA2 data at offset ${at}: invalid control byte 0x${control.toString(16)}`);
    }
  }
}
