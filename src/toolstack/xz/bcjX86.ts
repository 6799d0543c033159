// The x86 BCJ filter's decoder: turns the absolute targets the encoder stored in CALL/JMP rel32 back into relative ones.
//
// x86 code compresses better when the 32-bit displacement after E8 (CALL) and E9 (JMP) is
// an absolute address: calls to one function then repeat the same four bytes. The encoder
// replaced rel32 with rel32 + (address of the next instruction); decoding subtracts it.
// Only displacements whose top byte is 0x00 or 0xFF (small forward or backward jumps) were
// converted, and a heuristic skips E8/E9 bytes that are likely part of the previous
// candidate's operand: a 3-bit mask remembers which of the last three bytes were E8/E9
// candidates that were left alone. The decoder must make exactly the encoder's choices, so
// the rules below follow the filter's definition (LZMA SDK's x86 branch converter) exactly.

/** Whether b is the top byte of a displacement the filter converts (0x00 or 0xFF). */
function isSignByte(b: number): boolean {
  return b === 0 || b === 0xff;
}

// Indexed by the 3-bit mask of recent skipped candidates: may a candidate still be converted,
// and which operand byte (counting from the top) lies on a recent candidate.
const MASK_ALLOWS = [true, true, true, false, true, false, false, false];
const MASK_BYTE = [0, 1, 2, 2, 3, 3, 3, 3];

/**
 * Decodes buf[start, end) in place, where buf[start] was at stream offset startOffset (the
 * filter's start offset property, usually 0). The last four bytes are never converted.
 */
export function x86BcjDecode(buf: Uint8Array, start: number, end: number, startOffset: number): void {
  const last = end - 4; // an opcode needs four operand bytes after it
  if (last <= start) return;
  // Candidates are found with indexOf (a native byte search in both engines): a byte loop in
  // QuickJS costs seconds over a 66 MB kernel, where E8/E9 are under 1% of the bytes.
  const view = buf.subarray(0, last);
  let nextE8 = view.indexOf(0xe8, start);
  let nextE9 = view.indexOf(0xe9, start);
  let mask = 0;
  let prevAt = start - 5; // no earlier candidate
  let i = start;
  for (;;) {
    if (nextE8 >= 0 && nextE8 < i) nextE8 = view.indexOf(0xe8, i);
    if (nextE9 >= 0 && nextE9 < i) nextE9 = view.indexOf(0xe9, i);
    if (nextE8 < 0 && nextE9 < 0) break;
    i = nextE8 < 0 ? nextE9 : nextE9 < 0 ? nextE8 : nextE8 < nextE9 ? nextE8 : nextE9;
    const gap = i - prevAt;
    if (gap > 3) {
      mask = 0;
    } else {
      mask = (mask << (gap - 1)) & 7;
      if (mask !== 0 && (!MASK_ALLOWS[mask] || isSignByte(buf[i + 4 - MASK_BYTE[mask]]))) {
        // Likely inside an earlier instruction's operand: leave it and remember it.
        prevAt = i;
        mask = ((mask << 1) & 7) | 1;
        i++;
        continue;
      }
    }
    prevAt = i;
    if (!isSignByte(buf[i + 4])) {
      mask = ((mask << 1) & 7) | 1;
      i++;
      continue;
    }
    // The operand's address: (startOffset + offset of the next instruction) mod 2^32.
    const next = (startOffset + (i - start) + 5) >>> 0;
    let src = (buf[i + 1] | (buf[i + 2] << 8) | (buf[i + 3] << 16) | (buf[i + 4] << 24)) >>> 0;
    let dest = 0;
    for (;;) {
      dest = (src - next) >>> 0;
      if (mask === 0) break;
      // When a skipped candidate's byte lands in this operand, the encoder re-converted until
      // that byte was no longer 0x00/0xFF; undo the same way.
      const shift = MASK_BYTE[mask] * 8;
      if (!isSignByte((dest >>> (24 - shift)) & 0xff)) break;
      src = (dest ^ (2 ** (32 - shift) - 1)) >>> 0;
    }
    // The top byte is written as bit 24 repeated: only targets within +-16 MiB were converted,
    // and for those the top byte is 0x00 or 0xFF by that bit.
    buf[i + 4] = dest & 0x1000000 ? 0xff : 0;
    buf[i + 3] = (dest >>> 16) & 0xff;
    buf[i + 2] = (dest >>> 8) & 0xff;
    buf[i + 1] = dest & 0xff;
    i += 5;
  }
}
