// The bzImage loader: synthesized setup headers, every refusal, the domain builder taking a bzImage, and Debian's real kernel.
import { afterEach, describe, expect, test } from '@jest/globals';
import { existsSync, readFileSync } from 'fs';
import path from 'path';
import { setShim } from '../../src/hv/abi';
import { bzImageElf, isBzImage, kernelElf, parseBzImage } from '../../src/toolstack/bzImage';
import { harness, pvhKernel } from '../hv/guestHarness';
import { concat, storedLzma2, xzFile } from './xzBuilder';

afterEach(() => setShim(undefined));

const le32 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];

/** Linux's payload: an XZ stream (here of uncompressed LZMA2 chunks) and the uncompressed size as a u32. */
function xzPayload(data: Uint8Array, recordedSize = data.length): Uint8Array {
  return concat(xzFile([{ lzma2: storedLzma2(data), data }]), le32(recordedSize));
}

interface BzOptions {
  setupSects?: number;
  protocol?: number;
  bootFlag?: number;
  payloadOffset?: number;
  lengthDelta?: number;
}

/** A bzImage as the boot protocol lays it out: boot sector, setup header, setup sectors, then the payload. */
function bzImage(payload: Uint8Array, opts: BzOptions = {}): Uint8Array {
  const setupSects = opts.setupSects ?? 3;
  const payloadOffset = opts.payloadOffset ?? 0x3c4;
  const start = ((setupSects || 4) + 1) * 512 + payloadOffset;
  const img = new Uint8Array(start + payload.length + 0x100);
  const v = new DataView(img.buffer);
  v.setUint8(0x1f1, setupSects);
  v.setUint16(0x1fe, opts.bootFlag ?? 0xaa55, true);
  img.set([0xeb, 0x66], 0x200); // the jump over the header, as real images have
  v.setUint32(0x202, 0x53726448, true);
  v.setUint16(0x206, opts.protocol ?? 0x20f, true);
  v.setUint32(0x248, payloadOffset, true);
  v.setUint32(0x24c, payload.length + (opts.lengthDelta ?? 0), true);
  img.set(payload, start);
  return img;
}

const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

describe('setup header', () => {
  test('fields and the payload location', () => {
    const payload = xzPayload(pvhKernel());
    const img = bzImage(payload);
    expect(isBzImage(img)).toBe(true);
    expect(parseBzImage(img)).toEqual({ protocol: 0x20f, setupSects: 3, payloadStart: 4 * 512 + 0x3c4, payloadLength: payload.length, compression: 'xz' });
    // setup_sects 0 stands for 4.
    expect(parseBzImage(bzImage(payload, { setupSects: 0 })).payloadStart).toBe(5 * 512 + 0x3c4);
  });

  test('an XZ payload decompresses to the ELF inside', () => {
    const elf = pvhKernel({ size: 100000 });
    expect(same(bzImageElf(bzImage(xzPayload(elf))), elf)).toBe(true);
  });

  test('kernelElf takes an ELF as it is, a bzImage decompressed, and refuses anything else', () => {
    const elf = pvhKernel();
    expect(kernelElf(elf)).toBe(elf);
    expect(same(kernelElf(bzImage(xzPayload(elf))), elf)).toBe(true);
    expect(() => kernelElf(new TextEncoder().encode('#!/bin/sh\n'))).toThrow('not an ELF file or a bzImage');
    expect(() => kernelElf(new Uint8Array(0))).toThrow('not an ELF file or a bzImage');
    // A boot sector without the setup header (an old zImage, a disk image) is not a bzImage.
    expect(isBzImage(bzImage(xzPayload(elf), { bootFlag: 0 }))).toBe(false);
  });
});

describe('refusals', () => {
  const elf = pvhKernel();
  const withMagic = (magic: number[]): Uint8Array => bzImage(concat(magic, new Uint8Array(60), le32(1000)));
  test.each([
    ['too small a file', () => new Uint8Array(0x200), /not a bzImage/],
    ['no "HdrS"', () => bzImage(xzPayload(elf)).fill(0, 0x202, 0x206), /not a bzImage/],
    ['boot protocol 2.06', () => bzImage(xzPayload(elf), { protocol: 0x206 }), 'boot protocol 2.06 is too old: the payload\'s location needs 2.08 or later'],
    ['a payload running past the file', () => bzImage(xzPayload(elf), { lengthDelta: 0x1000 }), /payload at 0x\w+, \d+ bytes, lies outside the \d+-byte file/],
    ['a gzip payload', () => withMagic([0x1f, 0x8b, 8, 0]), "the bzImage's payload uses gzip: only XZ-compressed kernels (CONFIG_KERNEL_XZ) are supported"],
    ['a bzip2 payload', () => withMagic([0x42, 0x5a, 0x68]), /uses bzip2: only XZ/],
    ['an LZMA payload', () => withMagic([0x5d, 0, 0]), /uses lzma: only XZ/],
    ['an LZO payload', () => withMagic([0x89, 0x4c, 0x5a, 0x4f]), /uses lzo: only XZ/],
    ['an LZ4 payload', () => withMagic([0x02, 0x21, 0x4c, 0x18]), /uses lz4: only XZ/],
    ['a zstd payload', () => withMagic([0x28, 0xb5, 0x2f, 0xfd]), /uses zstd: only XZ/],
    ['an unknown payload', () => withMagic([1, 2, 3, 4]), /uses an unrecognised compression: only XZ/],
    ['a recorded size too large', () => bzImage(xzPayload(elf, elf.length + 1)), `decompressed to ${elf.length} bytes, but it records ${elf.length + 1}`],
    ['a recorded size too small', () => bzImage(xzPayload(elf, elf.length - 1)), `the bzImage's payload decompresses to more than the ${elf.length - 1} bytes it records`],
    ['a recorded size above the limit', () => bzImage(xzPayload(elf, 0x40000000)), /claims 1073741824 bytes uncompressed, above the limit/],
    ['a payload that is not an ELF', () => bzImage(xzPayload(new Uint8Array(64).fill(7))), "the bzImage's payload is not an ELF file"],
    ['a corrupt XZ payload', () => bzImage(xzPayload(elf)).fill(0x55, 4 * 512 + 0x3c4 + 40, 4 * 512 + 0x3c4 + 48), /the bzImage's XZ payload: .*(mismatch|corrupt|invalid)/],
  ])('%s', (_name, make, message) => {
    expect(() => bzImageElf(make())).toThrow(message);
  });
});

describe('the domain builder', () => {
  test('a bzImage kernel boots as the ELF inside it; other files get a clear error', () => {
    const h = harness();
    const elf = pvhKernel({ size: 8192, entry: 0x100040 });
    h.files.set('/boot/vmlinuz', bzImage(xzPayload(elf)));
    h.files.set('/boot/gz', bzImage(concat([0x1f, 0x8b, 8, 0], new Uint8Array(60), le32(1000))));
    h.files.set('/boot/text', new TextEncoder().encode('not a kernel'));
    const d = h.create({ kernel: 'vmlinuz', memory: 8 });
    expect(Array.from(d.memory.read(0x100000, 8192)).every((b) => b === 0x90)).toBe(true);
    expect(d.vcpuList[0].regNumber('rip')).toBe(0x100040);
    expect(() => h.create({ name: 'gz', kernel: 'gz' })).toThrow("kernel '/boot/gz': the bzImage's payload uses gzip: only XZ-compressed kernels (CONFIG_KERNEL_XZ) are supported");
    expect(() => h.create({ name: 'text', kernel: 'text' })).toThrow("kernel '/boot/text': not an ELF file or a bzImage");
  });
});

describe("Debian's kernel", () => {
  const dir = path.resolve(__dirname, '../../build/guest');

  test('build/guest/vmlinuz decompresses to build/guest/vmlinux byte for byte', () => {
    const vmlinuz = path.join(dir, 'vmlinuz');
    const vmlinux = path.join(dir, 'vmlinux');
    expect([existsSync(vmlinuz) && existsSync(vmlinux), 'run `npm run build` first: it makes build/guest/']).toEqual([true, expect.anything()]);
    const img = new Uint8Array(readFileSync(vmlinuz));
    const info = parseBzImage(img);
    expect(info.compression).toBe('xz');
    expect(info.protocol).toBeGreaterThanOrEqual(0x208);
    const elf = bzImageElf(img);
    const expected = readFileSync(vmlinux);
    expect(elf.length).toBe(expected.length);
    expect(Buffer.compare(Buffer.from(elf.buffer, elf.byteOffset, elf.length), expected)).toBe(0);
  });
});
