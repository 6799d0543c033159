// The guest asset tools on small made-up inputs: vmlinux extraction from a bzImage, the PVH check, the initramfs writer.
import { describe, expect, test, beforeAll, afterAll } from '@jest/globals';
import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import path from 'path';
import { gunzipSync, gzipSync } from 'zlib';
import { buildElf, leBytes } from '../hv/elfBuilder';

const root = path.resolve(__dirname, '..', '..');
const script = (name: string): string => path.join(root, 'scripts/guest', name);
let dir = '';

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'zazen-assets-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function run(name: string, args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync('node', [script(name), ...args], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

const pvhElf = (): Uint8Array => buildElf({
  segments: [{ paddr: 0x1000000, data: new Uint8Array(4096).fill(0x90) }],
  notes: [{ owner: 'Xen', type: 18, desc: leBytes(0x1000850, 8) }],
});

/** A bzImage skeleton: setup header fields as boot.rst places them, payload after the setup sectors. */
function bzImage(payload: Uint8Array, opts: { setupSects?: number; version?: number; lengthDelta?: number } = {}): Uint8Array {
  const setupSects = opts.setupSects ?? 3;
  const payloadOffset = 0x40;
  const start = (setupSects + 1) * 512 + payloadOffset;
  const img = new Uint8Array(start + payload.length + 16);
  const v = new DataView(img.buffer);
  v.setUint8(0x1f1, setupSects);
  v.setUint32(0x202, 0x53726448, true);
  v.setUint16(0x206, opts.version ?? 0x20f, true);
  v.setUint32(0x248, payloadOffset, true);
  v.setUint32(0x24c, payload.length + (opts.lengthDelta ?? 0), true);
  img.set(payload, start);
  return img;
}

/** Linux's compressed payload: the XZ stream followed by the decompressed size as a u32. */
function xzPayload(data: Uint8Array, recordedSize = data.length): Uint8Array {
  const xz = spawnSync('xz', ['-c', '--check=crc32'], { input: data });
  expect(xz.status).toBe(0);
  return Uint8Array.from([...xz.stdout, ...leBytes(recordedSize, 4)]);
}

describe('extract-vmlinux', () => {
  test('finds the XZ payload through the setup header and writes the ELF', () => {
    const elf = pvhElf();
    const input = path.join(dir, 'bz');
    const output = path.join(dir, 'vmlinux');
    writeFileSync(input, bzImage(xzPayload(elf)));
    const r = run('extract-vmlinux.mjs', [input, output]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/setup_sects 3, payload \d+ B at 0x840 -> \d+ B ELF/);
    expect(Buffer.compare(readFileSync(output), Buffer.from(elf))).toBe(0);
  });

  test.each([
    ['not a bzImage', () => new Uint8Array(0x1000), /no "HdrS" magic/],
    ['too small', () => new Uint8Array(100), /too small/],
    ['an old boot protocol', () => bzImage(xzPayload(pvhElf()), { version: 0x206 }), /predates payload_offset/],
    ['a payload running past the file', () => bzImage(xzPayload(pvhElf()), { lengthDelta: 100 }), /lies outside/],
    ['a gzip payload', () => bzImage(Uint8Array.from([...gzipSync(Buffer.from(pvhElf())), 0, 0, 0, 0])), /not XZ/],
    ['a wrong recorded size', () => bzImage(xzPayload(pvhElf(), 12345)), /records 12345/],
    ['a payload that is not an ELF', () => bzImage(xzPayload(new Uint8Array(64).fill(7))), /not an ELF/],
  ])('rejects %s with a clear message', (_name, make, message) => {
    const input = path.join(dir, 'bad');
    writeFileSync(input, make());
    const r = run('extract-vmlinux.mjs', [input, path.join(dir, 'bad.out')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('check-pvh', () => {
  test('accepts a kernel with a PHYS32_ENTRY note and reports it', () => {
    const file = path.join(dir, 'pvh.elf');
    writeFileSync(file, pvhElf());
    const r = run('check-pvh.mjs', [file]);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/PHYS32_ENTRY 0x1000850, 1 load segments at 0x1000000-0x1001000/);
  });

  test('rejects a kernel without the note', () => {
    const file = path.join(dir, 'plain.elf');
    writeFileSync(file, buildElf({ segments: [{ paddr: 0x100000, data: new Uint8Array(16) }] }));
    const r = run('check-pvh.mjs', [file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/not a PVH kernel: no Xen PHYS32_ENTRY note/);
  });
});

interface CpioEntry { name: string; mode: number; rdevMajor: number; rdevMinor: number; data: Buffer }

/** Parses a newc archive, checking magic and padding, up to its trailer. */
function parseNewc(buf: Buffer): CpioEntry[] {
  const out: CpioEntry[] = [];
  let p = 0;
  const align = (n: number): number => (n + 3) & ~3;
  for (;;) {
    expect(buf.toString('ascii', p, p + 6)).toBe('070701');
    const field = (i: number): number => parseInt(buf.toString('ascii', p + 6 + i * 8, p + 14 + i * 8), 16);
    const namesize = field(11);
    const filesize = field(6);
    const name = buf.toString('utf8', p + 110, p + 110 + namesize - 1);
    const dataAt = align(p + 110 + namesize);
    if (name === 'TRAILER!!!') return out;
    out.push({ name, mode: field(1), rdevMajor: field(9), rdevMinor: field(10), data: buf.subarray(dataAt, dataAt + filesize) });
    p = align(dataAt + filesize);
  }
}

describe('mkinitramfs', () => {
  const applets = ['bin/sh', 'bin/mount', 'bin/uname', 'bin/cat', 'bin/ls', 'bin/echo', 'sbin/poweroff', 'bin/mkdir',
    'usr/bin/setsid', 'sbin/init', 'bin/umount', 'sbin/reboot', 'linuxrc', 'bin/busybox'];

  function build(list: string[]): { status: number | null; stderr: string; entries: CpioEntry[] } {
    const busybox = path.join(dir, 'busybox');
    const init = path.join(dir, 'init.sh');
    const appletFile = path.join(dir, 'applets.txt');
    const out = path.join(dir, 'initramfs.cpio.gz');
    rmSync(out, { force: true });
    writeFileSync(busybox, Buffer.from('\x7fELF fake busybox'));
    writeFileSync(init, '#!/bin/sh\necho ZAZEN-GUEST-READY\n');
    writeFileSync(appletFile, list.map((a) => '/' + a).join('\n') + '\n');
    const r = run('mkinitramfs.mjs', ['--busybox', busybox, '--applets', appletFile, '--init', init, '--out', out]);
    const entries = r.status === 0 ? parseNewc(gunzipSync(readFileSync(out))) : [];
    return { ...r, entries };
  }

  test('writes busybox, applet links, device nodes and /init as a newc archive', () => {
    const { status, entries } = build(applets);
    expect(status).toBe(0);
    const byName = new Map(entries.map((e) => [e.name, e]));
    const init = byName.get('init');
    expect(init?.mode).toBe(0o100755);
    expect(init?.data.toString()).toContain('ZAZEN-GUEST-READY');
    expect(byName.get('bin/busybox')?.data.toString()).toBe('\x7fELF fake busybox');
    expect(byName.get('bin/sh')?.mode).toBe(0o120777);
    expect(byName.get('bin/sh')?.data.toString()).toBe('/bin/busybox');
    expect(byName.get('usr/bin/setsid')?.data.toString()).toBe('/bin/busybox');
    const console = byName.get('dev/console');
    expect([console?.mode, console?.rdevMajor, console?.rdevMinor]).toEqual([0o020600, 5, 1]);
    const hvc = byName.get('dev/hvc0');
    expect([hvc && hvc.mode & 0o170000, hvc?.rdevMajor, hvc?.rdevMinor]).toEqual([0o020000, 229, 0]);
    expect(byName.get('sbin/init')?.data.toString()).toBe('/bin/busybox');
    expect(byName.has('linuxrc')).toBe(false);
    // Every directory comes before what it holds.
    const seen = new Set<string>();
    for (const e of entries) {
      const parent = e.name.includes('/') ? e.name.slice(0, e.name.lastIndexOf('/')) : '';
      if (parent) expect(seen.has(parent)).toBe(true);
      seen.add(e.name);
    }
  });

  test('the archive is reproducible', () => {
    const a = readFileSync(path.join(dir, 'initramfs.cpio.gz'));
    build(applets);
    expect(Buffer.compare(a, readFileSync(path.join(dir, 'initramfs.cpio.gz')))).toBe(0);
  });

  test('refuses a busybox without the applets /init needs', () => {
    const r = build(applets.filter((a) => a !== 'bin/uname' && a !== 'sbin/init'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/busybox lacks required applets: uname, init/);
  });

  test('refuses bad arguments and applet paths outside the tree', () => {
    expect(run('mkinitramfs.mjs', ['--busybox']).stderr).toMatch(/bad argument --busybox/);
    expect(build([...applets, 'opt/thing']).stderr).toMatch(/applet path opt\/thing lies outside/);
  });
});
