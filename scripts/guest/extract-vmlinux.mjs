#!/usr/bin/env node
// Extracts the ELF vmlinux from an x86 bzImage whose payload is XZ, using the boot protocol's setup header.
//
// Usage: node scripts/guest/extract-vmlinux.mjs <bzImage> <vmlinux-out>
// The setup header (Documentation/x86/boot.rst) says where the compressed kernel is: the
// protected-mode code starts at (setup_sects + 1) * 512 and the payload lies payload_offset
// bytes into it, payload_length bytes long (boot protocol 2.08 and later).
import { readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];

/** Errors about the input file: printed without a stack, exit status 1. */
class BzImageError extends Error {}

/** Returns the payload's byte range in a bzImage, checking every header field it relies on. */
export function payloadRange(img) {
  if (img.length < 0x250) throw new BzImageError(`file of ${img.length} bytes is too small for a bzImage setup header`);
  const v = new DataView(img.buffer, img.byteOffset, img.byteLength);
  if (v.getUint32(0x202, true) !== 0x53726448) throw new BzImageError('no "HdrS" magic at 0x202: not a bzImage');
  const version = v.getUint16(0x206, true);
  if (version < 0x208) throw new BzImageError(`boot protocol ${version.toString(16)} predates payload_offset (needs 2.08)`);
  // setup_sects 0 means 4, for compatibility with images older than the field.
  const setupSects = v.getUint8(0x1f1) || 4;
  const payloadOffset = v.getUint32(0x248, true);
  const payloadLength = v.getUint32(0x24c, true);
  const start = (setupSects + 1) * 512 + payloadOffset;
  const end = start + payloadLength;
  if (payloadLength === 0 || end > img.length) {
    throw new BzImageError(`payload ${start}+${payloadLength} lies outside the ${img.length}-byte file`);
  }
  return { start, end, setupSects, payloadOffset, payloadLength, version };
}

/** Decompresses the XZ payload with the xz tool and returns the ELF bytes. */
export function extractVmlinux(img) {
  const r = payloadRange(img);
  const payload = img.subarray(r.start, r.end);
  if (!XZ_MAGIC.every((b, i) => payload[i] === b)) {
    const head = Array.from(payload.subarray(0, 6), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new BzImageError(`payload starts ${head}, not XZ (the kernel was built without CONFIG_KERNEL_XZ)`);
  }
  // Linux appends the decompressed size as a u32 after the XZ stream; --single-stream
  // stops at the stream's end instead of reading those bytes as a second stream.
  const xz = spawnSync('xz', ['-dc', '--single-stream'], { input: payload, maxBuffer: 1 << 30 });
  if (xz.error) throw new BzImageError(`cannot run xz: ${xz.error.message}`);
  if (xz.status !== 0) throw new BzImageError(`xz failed (status ${xz.status}): ${xz.stderr.toString().trim()}`);
  const elf = xz.stdout;
  const expected = new DataView(payload.buffer, payload.byteOffset + payload.length - 4, 4).getUint32(0, true);
  if (elf.length !== expected) {
    throw new BzImageError(`decompressed ${elf.length} bytes, but the bzImage records ${expected}`);
  }
  if (elf[0] !== 0x7f || elf[1] !== 0x45 || elf[2] !== 0x4c || elf[3] !== 0x46) {
    throw new BzImageError('the decompressed payload is not an ELF file');
  }
  return { elf, range: r };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) {
    console.error('usage: extract-vmlinux.mjs <bzImage> <vmlinux-out>');
    process.exit(2);
  }
  try {
    const { elf, range } = extractVmlinux(readFileSync(input));
    writeFileSync(output, elf);
    console.error(`extract-vmlinux: protocol ${range.version.toString(16)}, setup_sects ${range.setupSects}, ` +
      `payload ${range.payloadLength} B at 0x${range.start.toString(16)} -> ${elf.length} B ELF`);
  } catch (e) {
    if (!(e instanceof BzImageError)) throw e;
    console.error(`extract-vmlinux: ${input}: ${e.message}`);
    process.exit(1);
  }
}
