// The LZMA decoder behind LZMA2: adaptive binary range decoding of literals, matches and repeated matches.
//
// Facts from the LZMA specification (Igor Pavlov's lzma-specification.txt): 11-bit
// probabilities starting at 1/2 that move by 1/32 of the distance to 0 or 1 on each bit;
// a range coder whose range is renormalised by one input byte whenever it drops below
// 2^24; 12 states recording what the last symbols were; four recent distances (rep0-3).
//
// Speed matters (a Linux kernel is 66 MB of output) and the same code runs in QuickJS, an
// interpreter where a function call costs far more than a few arithmetic operations. So
// the whole per-symbol path is one function over local variables, the range coder is
// written out at each decision instead of being a method, and the output buffer is the
// dictionary: matches copy from earlier output, never through a separate window.
//
// Each LZMA2 chunk is decoded by one call with its exact packed and unpacked sizes. Input
// reads past the chunk are not checked byte by byte (a Uint8Array read out of range gives
// undefined, which the shift turns into 0, and cannot touch other memory); instead the call
// checks at the end that it consumed exactly the packed size, which catches such reads.
import { XzError } from './xzError';

// Offsets of each probability group in one Uint16Array.
const IS_MATCH = 0; // [state << 4 | posState], 12 x 16
const IS_REP = 192; // [state]
const IS_REP_G0 = 204;
const IS_REP_G1 = 216;
const IS_REP_G2 = 228;
const IS_REP0_LONG = 240; // [state << 4 | posState]
const POS_SLOT = 432; // 4 length states x 64-entry bit tree
const SPEC_POS = 688; // reverse bit trees for distance slots 4-13 (115 entries, index 0 unused)
const ALIGN = 803; // 16-entry reverse bit tree for the 4 low distance bits
const LEN = 819; // match lengths: choice, choice2, low[16][8], mid[16][8], high[256] (514 entries)
const REP_LEN = 1333; // lengths of repeated matches, same layout
const LITERAL = 1847; // 0x300 per literal context
const PROB_INIT = 1024;

/** Matches at least this long are copied with copyWithin, shorter ones byte by byte (cheaper below ~8 bytes in QuickJS). */
const COPY_MIN = 8;

/** lc + lp of at most 4, as LZMA2 requires, bounds the literal tables. */
const MAX_PROBS = LITERAL + (0x300 << 4);

/** The LZMA state that persists across LZMA2 chunks: properties, probabilities, state and recent distances. */
export class LzmaDecoder {
  lc = 0;
  lp = 0;
  pb = 0;
  readonly probs = new Uint16Array(MAX_PROBS);
  state = 0;
  rep0 = 0;
  rep1 = 0;
  rep2 = 0;
  rep3 = 0;

  /** Sets lc/lp/pb from an LZMA2 properties byte ((pb * 5 + lp) * 9 + lc) and resets the state. */
  setProperties(props: number, at: number): void {
    if (props >= 9 * 5 * 5) throw new XzError(`invalid LZMA properties byte ${props} at offset ${at}`);
    const lc = props % 9;
    const rest = (props / 9) | 0;
    const lp = rest % 5;
    const pb = (rest / 5) | 0;
    // LZMA2 caps lc + lp at 4 so that the literal tables stay small.
    if (lc + lp > 4) throw new XzError(`invalid LZMA2 properties at offset ${at}: lc ${lc} + lp ${lp} exceeds 4`);
    this.lc = lc;
    this.lp = lp;
    this.pb = pb;
    this.reset();
  }

  /** Resets probabilities, state and distances (an LZMA2 state reset). */
  reset(): void {
    this.probs.fill(PROB_INIT, 0, LITERAL + (0x300 << (this.lc + this.lp)));
    this.state = 0;
    this.rep0 = this.rep1 = this.rep2 = this.rep3 = 0;
  }

  /**
   * Decodes one LZMA chunk from input[inPos, inEnd) into out[outPos, outEnd), exactly filling it.
   * Matches may reach back to dictStart (the last dictionary reset) and at most dictSize bytes.
   */
  decodeChunk(input: Uint8Array, inPos: number, inEnd: number, out: Uint8Array, outPos: number, outEnd: number, dictStart: number, dictSize: number): void {
    if (inEnd - inPos < 5) throw new XzError(`LZMA chunk at offset ${inPos} is shorter than the range coder's 5-byte start`);
    // The encoder's first output byte is always 0: anything else is not LZMA data.
    if (input[inPos] !== 0) throw new XzError(`corrupt LZMA chunk at offset ${inPos}: range coder does not start with 0`);
    const p = this.probs;
    const lc = this.lc;
    const litShift = 8 - lc;
    const lpMask = (1 << this.lp) - 1;
    const pbMask = (1 << this.pb) - 1;
    // Positions count from the dictionary reset; the masks use at most 4 bits, so adding
    // (-dictStart) mod 16 to the buffer position gives the same low bits.
    const posAdj = (16 - (dictStart & 15)) & 15;
    let code = ((input[inPos + 1] << 24) | (input[inPos + 2] << 16) | (input[inPos + 3] << 8) | input[inPos + 4]) >>> 0;
    let range = 0xffffffff;
    let ip = inPos + 5;
    let state = this.state;
    let rep0 = this.rep0;
    let rep1 = this.rep1;
    let rep2 = this.rep2;
    let rep3 = this.rep3;
    let pos = outPos;
    let i = 0;
    let prob = 0;
    let bound = 0;
    let bit = 0;

    while (pos < outEnd) {
      const posState = (pos + posAdj) & pbMask;

      // isMatch[state][posState]
      i = IS_MATCH + (state << 4) + posState;
      prob = p[i];
      bound = (range >>> 11) * prob;
      if (code < bound) {
        range = bound;
        p[i] = prob + ((2048 - prob) >>> 5);
        bit = 0;
      } else {
        range -= bound;
        code -= bound;
        p[i] = prob - (prob >>> 5);
        bit = 1;
      }
      if (range < 0x1000000) {
        range = (range << 8) >>> 0;
        code = ((code << 8) | input[ip++]) >>> 0;
      }

      if (bit === 0) {
        // A literal: 8 bits through a bit tree chosen by the position's low bits and the previous byte's high bits.
        const prev = pos > dictStart ? out[pos - 1] : 0;
        const base = LITERAL + 0x300 * ((((pos + posAdj) & lpMask) << lc) + (prev >>> litShift));
        let sym = 1;
        if (state >= 7) {
          // After a match the byte at rep0 predicts this one: while the decoded bits agree
          // with it, use the probabilities for "matched" bits (offsets 0x100 and 0x200).
          let matchByte = out[pos - rep0 - 1];
          do {
            const matchBit = (matchByte >>> 7) & 1;
            matchByte <<= 1;
            i = base + ((1 + matchBit) << 8) + sym;
            prob = p[i];
            bound = (range >>> 11) * prob;
            if (code < bound) {
              range = bound;
              p[i] = prob + ((2048 - prob) >>> 5);
              sym <<= 1;
              bit = 0;
            } else {
              range -= bound;
              code -= bound;
              p[i] = prob - (prob >>> 5);
              sym = (sym << 1) | 1;
              bit = 1;
            }
            if (range < 0x1000000) {
              range = (range << 8) >>> 0;
              code = ((code << 8) | input[ip++]) >>> 0;
            }
            if (bit !== matchBit) break;
          } while (sym < 0x100);
        }
        while (sym < 0x100) {
          i = base + sym;
          prob = p[i];
          bound = (range >>> 11) * prob;
          if (code < bound) {
            range = bound;
            p[i] = prob + ((2048 - prob) >>> 5);
            sym <<= 1;
          } else {
            range -= bound;
            code -= bound;
            p[i] = prob - (prob >>> 5);
            sym = (sym << 1) | 1;
          }
          if (range < 0x1000000) {
            range = (range << 8) >>> 0;
            code = ((code << 8) | input[ip++]) >>> 0;
          }
        }
        out[pos++] = sym & 0xff;
        state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
        continue;
      }

      // A match: isRep[state] tells a new distance from one of the four recent ones.
      let lenBase = LEN;
      i = IS_REP + state;
      prob = p[i];
      bound = (range >>> 11) * prob;
      if (code < bound) {
        range = bound;
        p[i] = prob + ((2048 - prob) >>> 5);
        bit = 0;
      } else {
        range -= bound;
        code -= bound;
        p[i] = prob - (prob >>> 5);
        bit = 1;
      }
      if (range < 0x1000000) {
        range = (range << 8) >>> 0;
        code = ((code << 8) | input[ip++]) >>> 0;
      }

      if (bit === 1) {
        lenBase = REP_LEN;
        // isRepG0[state]: rep0 (then isRep0Long: one byte or a longer match) or another.
        i = IS_REP_G0 + state;
        prob = p[i];
        bound = (range >>> 11) * prob;
        if (code < bound) {
          range = bound;
          p[i] = prob + ((2048 - prob) >>> 5);
          bit = 0;
        } else {
          range -= bound;
          code -= bound;
          p[i] = prob - (prob >>> 5);
          bit = 1;
        }
        if (range < 0x1000000) {
          range = (range << 8) >>> 0;
          code = ((code << 8) | input[ip++]) >>> 0;
        }
        if (bit === 0) {
          i = IS_REP0_LONG + (state << 4) + posState;
          prob = p[i];
          bound = (range >>> 11) * prob;
          if (code < bound) {
            range = bound;
            p[i] = prob + ((2048 - prob) >>> 5);
            bit = 0;
          } else {
            range -= bound;
            code -= bound;
            p[i] = prob - (prob >>> 5);
            bit = 1;
          }
          if (range < 0x1000000) {
            range = (range << 8) >>> 0;
            code = ((code << 8) | input[ip++]) >>> 0;
          }
          if (bit === 0) {
            // A "short rep": one byte from distance rep0.
            if (rep0 >= pos - dictStart || rep0 >= dictSize) throw new XzError(`corrupt LZMA data before output offset ${pos}: distance ${rep0 + 1} reaches before the dictionary`);
            out[pos] = out[pos - rep0 - 1];
            pos++;
            state = state < 7 ? 9 : 11;
            continue;
          }
        } else {
          // isRepG1 / isRepG2 pick rep1, rep2 or rep3, which moves to the front.
          let dist = 0;
          i = IS_REP_G1 + state;
          prob = p[i];
          bound = (range >>> 11) * prob;
          if (code < bound) {
            range = bound;
            p[i] = prob + ((2048 - prob) >>> 5);
            bit = 0;
          } else {
            range -= bound;
            code -= bound;
            p[i] = prob - (prob >>> 5);
            bit = 1;
          }
          if (range < 0x1000000) {
            range = (range << 8) >>> 0;
            code = ((code << 8) | input[ip++]) >>> 0;
          }
          if (bit === 0) {
            dist = rep1;
          } else {
            i = IS_REP_G2 + state;
            prob = p[i];
            bound = (range >>> 11) * prob;
            if (code < bound) {
              range = bound;
              p[i] = prob + ((2048 - prob) >>> 5);
              bit = 0;
            } else {
              range -= bound;
              code -= bound;
              p[i] = prob - (prob >>> 5);
              bit = 1;
            }
            if (range < 0x1000000) {
              range = (range << 8) >>> 0;
              code = ((code << 8) | input[ip++]) >>> 0;
            }
            if (bit === 0) {
              dist = rep2;
            } else {
              dist = rep3;
              rep3 = rep2;
            }
            rep2 = rep1;
          }
          rep1 = rep0;
          rep0 = dist;
        }
        state = state < 7 ? 8 : 11;
      }

      // The length: choice bits select low (2-9), mid (10-17) or high (18-273) bit trees.
      let treeBase = 0;
      let treeBits = 3;
      let len = 0;
      i = lenBase;
      prob = p[i];
      bound = (range >>> 11) * prob;
      if (code < bound) {
        range = bound;
        p[i] = prob + ((2048 - prob) >>> 5);
        treeBase = lenBase + 2 + (posState << 3);
      } else {
        range -= bound;
        code -= bound;
        p[i] = prob - (prob >>> 5);
        treeBase = -1;
      }
      if (range < 0x1000000) {
        range = (range << 8) >>> 0;
        code = ((code << 8) | input[ip++]) >>> 0;
      }
      if (treeBase < 0) {
        i = lenBase + 1;
        prob = p[i];
        bound = (range >>> 11) * prob;
        if (code < bound) {
          range = bound;
          p[i] = prob + ((2048 - prob) >>> 5);
          treeBase = lenBase + 130 + (posState << 3);
          len = 8;
        } else {
          range -= bound;
          code -= bound;
          p[i] = prob - (prob >>> 5);
          treeBase = lenBase + 258;
          treeBits = 8;
          len = 16;
        }
        if (range < 0x1000000) {
          range = (range << 8) >>> 0;
          code = ((code << 8) | input[ip++]) >>> 0;
        }
      }
      let sym = 1;
      const treeTop = 1 << treeBits;
      while (sym < treeTop) {
        i = treeBase + sym;
        prob = p[i];
        bound = (range >>> 11) * prob;
        if (code < bound) {
          range = bound;
          p[i] = prob + ((2048 - prob) >>> 5);
          sym <<= 1;
        } else {
          range -= bound;
          code -= bound;
          p[i] = prob - (prob >>> 5);
          sym = (sym << 1) | 1;
        }
        if (range < 0x1000000) {
          range = (range << 8) >>> 0;
          code = ((code << 8) | input[ip++]) >>> 0;
        }
      }
      len += sym - treeTop;

      if (lenBase === LEN) {
        // A new distance: a 6-bit slot (by length, capped at 3) gives its top two bits and bit count.
        const slotBase = POS_SLOT + ((len < 3 ? len : 3) << 6);
        sym = 1;
        while (sym < 64) {
          i = slotBase + sym;
          prob = p[i];
          bound = (range >>> 11) * prob;
          if (code < bound) {
            range = bound;
            p[i] = prob + ((2048 - prob) >>> 5);
            sym <<= 1;
          } else {
            range -= bound;
            code -= bound;
            p[i] = prob - (prob >>> 5);
            sym = (sym << 1) | 1;
          }
          if (range < 0x1000000) {
            range = (range << 8) >>> 0;
            code = ((code << 8) | input[ip++]) >>> 0;
          }
        }
        const slot = sym - 64;
        let dist = slot;
        if (slot >= 4) {
          const nBits = (slot >>> 1) - 1;
          dist = (2 | (slot & 1)) * (1 << nBits);
          if (slot < 14) {
            // Slots 4-13: the low bits come from a reverse bit tree of their own.
            const treeAt = SPEC_POS + dist - slot;
            let m = 1;
            for (let k = 0; k < nBits; k++) {
              i = treeAt + m;
              prob = p[i];
              bound = (range >>> 11) * prob;
              if (code < bound) {
                range = bound;
                p[i] = prob + ((2048 - prob) >>> 5);
                m <<= 1;
              } else {
                range -= bound;
                code -= bound;
                p[i] = prob - (prob >>> 5);
                m = (m << 1) | 1;
                dist += 1 << k;
              }
              if (range < 0x1000000) {
                range = (range << 8) >>> 0;
                code = ((code << 8) | input[ip++]) >>> 0;
              }
            }
          } else {
            // Slots 14-63: middle bits are "direct" (probability 1/2), the low 4 from the align tree.
            let direct = 0;
            for (let k = nBits - 4; k > 0; k--) {
              range = range >>> 1;
              if (code >= range) {
                code -= range;
                direct = (direct << 1) | 1;
              } else {
                direct <<= 1;
              }
              if (range < 0x1000000) {
                range = (range << 8) >>> 0;
                code = ((code << 8) | input[ip++]) >>> 0;
              }
            }
            dist += direct * 16;
            let m = 1;
            for (let k = 0; k < 4; k++) {
              i = ALIGN + m;
              prob = p[i];
              bound = (range >>> 11) * prob;
              if (code < bound) {
                range = bound;
                p[i] = prob + ((2048 - prob) >>> 5);
                m <<= 1;
              } else {
                range -= bound;
                code -= bound;
                p[i] = prob - (prob >>> 5);
                m = (m << 1) | 1;
                dist += 1 << k;
              }
              if (range < 0x1000000) {
                range = (range << 8) >>> 0;
                code = ((code << 8) | input[ip++]) >>> 0;
              }
            }
            // Distance 0xFFFFFFFF is LZMA's end marker, which LZMA2 chunks never contain.
            if (dist === 0xffffffff) throw new XzError(`corrupt LZMA data before output offset ${pos}: end marker inside an LZMA2 chunk`);
          }
        }
        rep3 = rep2;
        rep2 = rep1;
        rep1 = rep0;
        rep0 = dist;
        state = state < 7 ? 7 : 10;
      }

      // Copy len + 2 bytes from distance rep0 + 1; they may overlap the bytes being written.
      len += 2;
      if (rep0 >= pos - dictStart || rep0 >= dictSize) throw new XzError(`corrupt LZMA data before output offset ${pos}: distance ${rep0 + 1} reaches before the dictionary`);
      if (len > outEnd - pos) throw new XzError(`corrupt LZMA data before output offset ${pos}: a ${len}-byte match runs past the chunk's end`);
      let from = pos - rep0 - 1;
      if (len < COPY_MIN) {
        const end = pos + len;
        while (pos < end) out[pos++] = out[from++];
      } else {
        // copyWithin is one native call; an overlapping match (distance below its length)
        // repeats its first `distance` bytes, so copy it in non-overlapping pieces that double.
        const end = pos + len;
        let piece = rep0 + 1;
        while (pos < end) {
          const n = piece < end - pos ? piece : end - pos;
          out.copyWithin(pos, from, from + n);
          pos += n;
          piece += n;
        }
      }
    }

    this.state = state;
    this.rep0 = rep0;
    this.rep1 = rep1;
    this.rep2 = rep2;
    this.rep3 = rep3;
    // A well-formed chunk ends with its range coder flushed (code 0) after exactly its packed size.
    if (ip !== inEnd) {
      throw new XzError(`corrupt LZMA chunk at offset ${inPos}: decoding used ${ip - inPos} of its ${inEnd - inPos} bytes`);
    }
    if (code !== 0) throw new XzError(`corrupt LZMA chunk at offset ${inPos}: range coder did not finish cleanly`);
  }
}
