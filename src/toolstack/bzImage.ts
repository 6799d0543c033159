// Linux x86 bzImage: the boot protocol's setup header, its compressed payload, and the ELF vmlinux inside.
//
// Facts from the x86 boot protocol (Documentation/arch/x86/boot.rst):
//   0x1F1 setup_sects   real-mode setup is (setup_sects || 4) 512-byte sectors after the boot sector
//   0x1FE boot_flag     0xAA55, the PC boot-sector signature
//   0x202 header        "HdrS"
//   0x206 version       boot protocol version; payload_offset/length exist from 2.08
//   0x248 payload_offset  payload start, counted from the protected-mode code at (setup_sects + 1) * 512
//   0x24C payload_length
// The payload is vmlinux (an ELF) compressed with the kernel's chosen compressor, followed
// by the uncompressed size as a little-endian u32 (the build appends it for the in-kernel
// decompressor). Only XZ is decoded here; the other compressors are named in the error.
import { xzDecompress, XzError } from './xz/xz';

/** A bzImage that cannot be used; the message says why. */
export class BzImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BzImageError';
  }
}

export interface BzImageInfo {
  /** Boot protocol version, e.g. 0x20f for 2.15. */
  protocol: number;
  setupSects: number;
  /** The payload's byte range in the file. */
  payloadStart: number;
  payloadLength: number;
  /** 'xz', 'gzip', 'bzip2', 'lzma', 'lzo', 'lz4', 'zstd' or 'unknown'. */
  compression: string;
}

const HEADER_END = 0x250;
const HDRS = 0x53726448; // "HdrS" read as a little-endian u32
/** The ELF of a 64-bit distribution kernel is tens of MB; refuse to inflate beyond this. */
export const MAX_VMLINUX_BYTES = 512 * 1048576;

// Leading bytes of each compressor's output, as the kernel's build produces them.
const MAGICS: [string, number[]][] = [
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['gzip', [0x1f, 0x8b]],
  ['bzip2', [0x42, 0x5a, 0x68]],
  ['lzma', [0x5d, 0x00, 0x00]],
  ['lzo', [0x89, 0x4c, 0x5a, 0x4f]],
  ['lz4', [0x02, 0x21, 0x4c, 0x18]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
];

function u16(b: Uint8Array, at: number): number {
  return b[at] | (b[at + 1] << 8);
}

function u32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

/** Whether bytes start with an x86 boot sector carrying the "HdrS" setup header. */
export function isBzImage(bytes: Uint8Array): boolean {
  return bytes.length >= HEADER_END && u16(bytes, 0x1fe) === 0xaa55 && u32(bytes, 0x202) === HDRS;
}

/** Parses the setup header and locates the payload; throws BzImageError for anything it cannot use. */
export function parseBzImage(bytes: Uint8Array): BzImageInfo {
  if (!isBzImage(bytes)) throw new BzImageError('not a bzImage (no 0xAA55 boot sector with a "HdrS" setup header)');
  const protocol = u16(bytes, 0x206);
  if (protocol < 0x208) {
    throw new BzImageError(`boot protocol ${protocol >> 8}.${(protocol & 0xff).toString().padStart(2, '0')} is too old: the payload's location needs 2.08 or later`);
  }
  // A zero setup_sects means 4, for images that predate the field.
  const setupSects = bytes[0x1f1] || 4;
  const payloadStart = (setupSects + 1) * 512 + u32(bytes, 0x248);
  const payloadLength = u32(bytes, 0x24c);
  if (payloadLength < 4 || payloadStart + payloadLength > bytes.length) {
    throw new BzImageError(`payload at 0x${payloadStart.toString(16)}, ${payloadLength} bytes, lies outside the ${bytes.length}-byte file`);
  }
  let compression = 'unknown';
  for (const [name, magic] of MAGICS) {
    if (payloadLength >= magic.length && magic.every((b, k) => bytes[payloadStart + k] === b)) {
      compression = name;
      break;
    }
  }
  return { protocol, setupSects, payloadStart, payloadLength, compression };
}

/** Decompresses a bzImage's XZ payload and returns the vmlinux ELF bytes; throws BzImageError. */
export function bzImageElf(bytes: Uint8Array, maxOutput = MAX_VMLINUX_BYTES): Uint8Array {
  const info = parseBzImage(bytes);
  if (info.compression !== 'xz') {
    const what = info.compression === 'unknown' ? 'an unrecognised compression' : info.compression;
    throw new BzImageError(`the bzImage's payload uses ${what}: only XZ-compressed kernels (CONFIG_KERNEL_XZ) are supported`);
  }
  const end = info.payloadStart + info.payloadLength;
  const size = u32(bytes, end - 4);
  if (size > maxOutput) throw new BzImageError(`the bzImage's payload claims ${size} bytes uncompressed, above the limit of ${maxOutput}`);
  let elf: Uint8Array;
  try {
    // The recorded size is the limit, so a payload that inflates beyond it stops there. It is
    // also the first allocation, unless it is implausible for the payload's length (a kernel
    // compresses about 8:1), in which case the output grows as it is decoded instead.
    elf = xzDecompress(bytes.subarray(info.payloadStart, end - 4), { maxOutput: size, sizeHint: Math.min(size, info.payloadLength * 64) });
  } catch (e) {
    if (e instanceof XzError && /exceeds the limit/.test(e.message)) throw new BzImageError(`the bzImage's payload decompresses to more than the ${size} bytes it records`);
    if (e instanceof XzError) throw new BzImageError(`the bzImage's XZ payload: ${e.message}`);
    throw e;
  }
  if (elf.length !== size) throw new BzImageError(`the bzImage's payload decompressed to ${elf.length} bytes, but it records ${size}`);
  if (elf.length < 4 || elf[0] !== 0x7f || elf[1] !== 0x45 || elf[2] !== 0x4c || elf[3] !== 0x46) {
    throw new BzImageError("the bzImage's payload is not an ELF file");
  }
  return elf;
}

/** Returns kernel file bytes as an ELF: an ELF as is, a bzImage decompressed; throws BzImageError for anything else. */
export function kernelElf(bytes: Uint8Array): Uint8Array {
  if (bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46) return bytes;
  if (isBzImage(bytes)) return bzImageElf(bytes);
  throw new BzImageError('not an ELF file or a bzImage');
}
