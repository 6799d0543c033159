// Tests for guest-physical memory: population, accounting, accessors, holes and the nested page table.
import { describe, expect, test } from '@jest/globals';
import { GuestMemory, GuestMemoryError } from '../../src/hv/guestMemory';
import { planGuestPhysical } from '../../src/hv/pvhLayout';
import { FakeFrames } from './fakeFrames';

const PAGE = 4096;
const MIB = 1048576;
const TWO32 = 4294967296;

interface RawLeaf {
  gfn: number;
  host: number;
  frames: number;
  flags: number;
}

/** An independent walk of the AMD64 4-level table straight from the fake's frames. */
function rawWalk(fake: FakeFrames, root: number): { leaves: RawLeaf[]; tables: number[]; nonLeafFlags: number[] } {
  const leaves: RawLeaf[] = [];
  const tables: number[] = [];
  const nonLeafFlags: number[] = [];
  const visit = (table: number, level: number, base: number): void => {
    tables.push(table);
    const t = new DataView(fake.physView(table, PAGE));
    for (let i = 0; i < 512; i++) {
      const lo = t.getUint32(i * 8, true);
      const hi = t.getUint32(i * 8 + 4, true);
      if (!(lo & 1)) {
        if (lo !== 0 || hi !== 0) junk++;
        continue;
      }
      const addr = (hi & 0xfffff) * TWO32 + (lo >>> 12) * PAGE;
      const gfn = base + i * 512 ** (level - 1);
      if (level === 1 || lo & 0x80) {
        if (level > 2) junk++;
        leaves.push({ gfn, host: addr, frames: level === 1 ? 1 : 512, flags: lo & 0xfff });
      } else {
        nonLeafFlags.push(lo & 0xfff);
        visit(addr, level - 1, gfn);
      }
    }
  };
  let junk = 0;
  visit(root, 4, 0);
  // Not-present entries are all-zero; large pages exist only at the PD level.
  expect(junk).toBe(0);
  return { leaves, tables, nonLeafFlags };
}

function owns(mem: GuestMemory, host: number, frames: number): boolean {
  return mem.ownedRuns().some((r) => host >= r.addr && host + frames * PAGE <= r.addr + r.count * PAGE);
}

function make32(fake: FakeFrames, opts = {}): GuestMemory {
  return GuestMemory.create(fake, planGuestPhysical(32).populate, opts);
}

describe('population and accounting', () => {
  test('a 32 MiB domain on 2 MiB-aligned chunks uses large pages and stays under 128 KiB of overhead', () => {
    const fake = new FakeFrames();
    const mem = make32(fake);
    expect(mem.pages).toBe(8192 + 8);
    const { leaves, tables, nonLeafFlags } = rawWalk(fake, mem.nptRoot);
    expect(leaves.filter((l) => l.frames === 512)).toHaveLength(16);
    expect(leaves.filter((l) => l.frames === 1).map((l) => l.gfn)).toEqual([0xfeff8, 0xfeff9, 0xfeffa, 0xfeffb, 0xfeffc, 0xfeffd, 0xfeffe, 0xfefff]);
    // PML4, one PDPT, the PDs for GiB 0 and GiB 3, one PT for the special pages.
    expect(tables.length).toBe(5);
    expect(mem.tableBytes).toBe(5 * PAGE);
    expect(mem.hostBytes).toBe((8200 + 5) * PAGE);
    expect(fake.allocatedFrames * PAGE).toBe(mem.hostBytes);
    expect(mem.tableBytes + mem.bookkeepingBytes).toBeLessThanOrEqual(128 * 1024);
    for (const f of nonLeafFlags) expect(f & 7).toBe(7);
    for (const l of leaves) {
      expect(l.flags & 7).toBe(7);
      expect(l.flags & 0x80).toBe(l.frames === 512 ? 0x80 : 0);
      expect(l.host % (l.frames * PAGE)).toBe(0);
      expect(owns(mem, l.host, l.frames)).toBe(true);
      expect(mem.translate(l.gfn * PAGE)).toBe(l.host);
    }
    expect(tables.sort()).toEqual(mem.tableFrames().sort());
    mem.destroy();
  });

  test('unaligned chunks fall back to 4 KiB pages and still fit the overhead budget', () => {
    const fake = new FakeFrames({ mode: 'unaligned' });
    const mem = make32(fake);
    const { leaves, tables } = rawWalk(fake, mem.nptRoot);
    expect(leaves.every((l) => l.frames === 1)).toBe(true);
    expect(leaves).toHaveLength(8200);
    expect(tables.length).toBe(21);
    const covered = new Set(leaves.map((l) => l.gfn));
    let missing = 0;
    for (let g = 0; g < 8192; g++) if (!covered.has(g)) missing++;
    expect(missing).toBe(0);
    const tableSet = new Set(mem.tableFrames());
    expect(leaves.filter((l) => !owns(mem, l.host, 1) || tableSet.has(l.host) || (l.flags & 7) !== 7)).toEqual([]);
    expect(mem.tableBytes + mem.bookkeepingBytes).toBeLessThanOrEqual(128 * 1024);
    mem.destroy();
    expect(fake.live.size).toBe(0);
  });

  test('refused large requests fall back to smaller chunks, each page backed exactly once', () => {
    for (const failWithZero of [false, true]) {
      const fake = new FakeFrames({ maxChunk: 700, failWithZero });
      const mem = make32(fake);
      expect(fake.failedAllocs).toBeGreaterThan(0);
      const runs = mem.ownedRuns();
      expect(runs.every((r) => r.count <= 700)).toBe(true);
      expect(runs.reduce((n, r) => n + r.count, 0)).toBe(8200);
      const hosts = new Set<number>();
      for (let g = 0; g < 8192; g++) hosts.add(mem.translate(g * PAGE));
      expect(hosts.size).toBe(8192);
      // Chunks of 512 frames come back 2 MiB-aligned, so large pages survive the fallback.
      expect(mem.nptMappings().filter((l) => l.frames === 512).length).toBe(16);
      mem.destroy();
      expect(fake.allocatedFrames).toBe(0);
    }
  });

  test('running out of frames fails cleanly and gives everything back', () => {
    const fake = new FakeFrames({ frames: 4096 });
    expect(() => make32(fake)).toThrow(/out of memory/);
    expect(fake.live.size).toBe(0);
    expect(fake.allocCalls - fake.failedAllocs).toBe(fake.freeCalls);
  });

  test('destroy frees exactly what was allocated, once', () => {
    const fake = new FakeFrames({ maxChunk: 1000 });
    const mem = make32(fake);
    const extra = mem.allocFrames(3);
    mem.mapGfn(0x10, extra);
    mem.unmapGfn(0x20);
    const allocated = fake.allocCalls - fake.failedAllocs;
    expect(mem.hostBytes).toBe(fake.allocatedFrames * PAGE);
    mem.destroy();
    expect(fake.freeCalls).toBe(allocated);
    expect(fake.live.size).toBe(0);
    mem.destroy();
    expect(fake.freeCalls).toBe(allocated);
    expect(() => mem.read(0, 1)).toThrow(/destroyed/);
  });

  test('bad ranges and options are rejected', () => {
    const fake = new FakeFrames();
    expect(() => GuestMemory.create(fake, [{ gfn: 10, count: 5 }, { gfn: 12, count: 5 }])).toThrow(/sorted and disjoint/);
    expect(() => GuestMemory.create(fake, [{ gfn: -1, count: 5 }])).toThrow(/bad gfn range/);
    expect(() => GuestMemory.create(fake, [{ gfn: 0, count: 0 }])).toThrow(/bad gfn range/);
    expect(() => GuestMemory.create(fake, [{ gfn: 0, count: 1 }], { maxChunkFrames: 0 })).toThrow(/maxChunkFrames/);
    expect(fake.live.size).toBe(0);
  });
});

describe('accessors', () => {
  const fake = new FakeFrames({ maxChunk: 3 });
  const mem = GuestMemory.create(fake, [{ gfn: 0, count: 16 }, { gfn: 0x100, count: 2 }]);

  test('read and write cross page and chunk boundaries', () => {
    const data = new Uint8Array(3 * PAGE + 100);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 3) & 0xff;
    mem.write(PAGE - 50, data);
    expect(Array.from(mem.read(PAGE - 50, data.length))).toEqual(Array.from(data));
    // Pages 2 and 3 live in different chunks: check the bytes landed in the right host frames.
    const frame2 = new Uint8Array(fake.physView(mem.translate(2 * PAGE), PAGE));
    expect(frame2[0]).toBe(data[PAGE + 50]);
    const frame3 = new Uint8Array(fake.physView(mem.translate(3 * PAGE), PAGE));
    expect(frame3[0]).toBe(data[2 * PAGE + 50]);
  });

  test('scalars are little-endian and may straddle pages', () => {
    mem.writeU8(5, 0xab);
    mem.writeU16(6, 0xbeef);
    mem.writeU32(PAGE - 2, 0xdeadbeef);
    mem.writeU64(2 * PAGE - 4, 2 ** 52 + 12345);
    expect(mem.readU8(5)).toBe(0xab);
    expect(mem.readU16(6)).toBe(0xbeef);
    expect(Array.from(mem.read(6, 2))).toEqual([0xef, 0xbe]);
    expect(mem.readU32(PAGE - 2)).toBe(0xdeadbeef);
    expect(mem.readU64(2 * PAGE - 4)).toBe(2 ** 52 + 12345);
    mem.write(0x100 * PAGE, new Uint8Array([0, 0, 0, 0, 0, 0, 0x20, 0]));
    expect(() => mem.readU64(0x100 * PAGE)).toThrow(/does not fit/);
    expect(() => mem.writeU8(0, 256)).toThrow(/does not fit/);
    expect(() => mem.writeU32(0, -1)).toThrow(/does not fit/);
    expect(() => mem.writeU64(0, 2 ** 53)).toThrow(/does not fit/);
  });

  test('zero clears a range across pages', () => {
    mem.write(3 * PAGE - 10, new Uint8Array(30).fill(9));
    mem.zero(3 * PAGE - 5, 10);
    expect(Array.from(mem.read(3 * PAGE - 10, 20))).toEqual([9, 9, 9, 9, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 9, 9, 9, 9]);
  });

  test('holes and bad addresses give clear errors and write nothing', () => {
    expect(() => mem.read(16 * PAGE, 1)).toThrow(GuestMemoryError);
    expect(() => mem.read(16 * PAGE, 1)).toThrow(/not populated \(hole at gfn 0x10\)/);
    mem.write(16 * PAGE - 4, new Uint8Array([1, 2, 3, 4]));
    expect(() => mem.write(16 * PAGE - 4, new Uint8Array(8).fill(0xee))).toThrow(/hole/);
    expect(Array.from(mem.read(16 * PAGE - 4, 4))).toEqual([1, 2, 3, 4]);
    expect(() => mem.readU32(16 * PAGE - 2)).toThrow(/hole/);
    expect(() => mem.read(-1, 1)).toThrow(/bad guest-physical address/);
    expect(() => mem.read(1.5, 1)).toThrow(/bad guest-physical address/);
    expect(() => mem.read(0, -1)).toThrow(/bad length/);
    expect(() => mem.read(2 ** 52, 1)).toThrow(/52-bit/);
    expect(mem.read(16 * PAGE, 0)).toHaveLength(0);
    expect(mem.isMapped(15)).toBe(true);
    expect(mem.isMapped(16)).toBe(false);
  });
});

describe('map and unmap one gfn', () => {
  test('mapping into a hole needs no flush; unmapping does', () => {
    const fake = new FakeFrames();
    const mem = make32(fake);
    const other = fake.framesAlloc(1);
    new Uint8Array(fake.physView(other, PAGE))[7] = 0x5a;
    const gfn = 0xf0000;
    expect(mem.mapGfn(gfn, other)).toEqual({ flush: false, previous: null });
    expect(mem.readU8(gfn * PAGE + 7)).toBe(0x5a);
    const leaf = rawWalk(fake, mem.nptRoot).leaves.find((l) => l.gfn === gfn);
    expect(leaf && leaf.host).toBe(other);
    expect(mem.mapGfn(gfn, other, { writable: false })).toEqual({ flush: true, previous: other });
    expect(mem.nptMappings().find((l) => l.gfn === gfn)).toEqual({ gfn, hostAddr: other, frames: 1, writable: false });
    expect(mem.unmapGfn(gfn)).toEqual({ flush: true, previous: other });
    expect(mem.unmapGfn(gfn)).toEqual({ flush: false, previous: null });
    expect(() => mem.read(gfn * PAGE, 1)).toThrow(/hole/);
    mem.destroy();
    // The foreign frame is not the domain's: destroy leaves it alone.
    expect(fake.live.size).toBe(1);
    fake.framesFree(other, 1);
  });

  test('mapping inside a 2 MiB page splits it and keeps the other 511 translations', () => {
    const fake = new FakeFrames();
    const mem = make32(fake);
    const before = new Map(Array.from({ length: 512 }, (_, i) => [0x200 + i, mem.translate((0x200 + i) * PAGE)] as [number, number]));
    const tables = mem.tableFrames().length;
    const page = mem.allocFrames(1);
    const change = mem.mapGfn(0x234, page);
    expect(change.flush).toBe(true);
    expect(change.previous).toBe(before.get(0x234));
    expect(mem.tableFrames().length).toBe(tables + 1);
    const leaves = rawWalk(fake, mem.nptRoot).leaves;
    expect(leaves.filter((l) => l.frames === 512)).toHaveLength(15);
    for (const [g, h] of before) {
      const l = leaves.find((x) => x.gfn === g);
      expect(l && l.host).toBe(g === 0x234 ? page : h);
      expect(l && l.flags & 7).toBe(7);
    }
    mem.writeU32(0x234 * PAGE, 0x11223344);
    expect(new DataView(fake.physView(page, PAGE)).getUint32(0, true)).toBe(0x11223344);
    expect(mem.unmapGfn(0x300).flush).toBe(true);
    expect(mem.isMapped(0x300)).toBe(false);
    expect(rawWalk(fake, mem.nptRoot).leaves.some((l) => l.gfn === 0x300)).toBe(false);
    mem.destroy();
    expect(fake.live.size).toBe(0);
  });

  test('bad arguments are refused', () => {
    const fake = new FakeFrames();
    const mem = GuestMemory.create(fake, [{ gfn: 0, count: 4 }]);
    expect(() => mem.mapGfn(-1, 0)).toThrow(/bad gfn/);
    expect(() => mem.mapGfn(2 ** 40, 0)).toThrow(/bad gfn/);
    expect(() => mem.mapGfn(5, 123)).toThrow(/page-aligned/);
    expect(() => mem.allocFrames(0)).toThrow(/positive integer/);
    mem.destroy();
  });
});
