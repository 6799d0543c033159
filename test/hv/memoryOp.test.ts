// memory_op through the hypercall path: add_to_physmap for shared_info and grant frames, memory_map, refusals.
import { afterEach, describe, expect, test } from '@jest/globals';
import { setShim } from '../../src/hv/abi';
import { domainServices } from '../../src/hv/evtchn/services';
import type { GuestDomain } from '../../src/hv/guestDomain';
import { halt, hypercall } from '../fakeVirt';
import { harness, type Harness } from './guestHarness';

afterEach(() => setShim(undefined));

const DOMID_SELF = 0x7ff0;
const ARG = 0x3000;
const BUF = 0x4000;

/** Runs one memory_op(cmd, arg) on vCPU 0; returns its signed result. */
function memOp(h: Harness, d: GuestDomain, cmd: number | bigint, arg: number | bigint, long64 = true): number {
  const v = h.vcpu(d);
  v.queue(hypercall(12, [cmd, arg], { long64 }), halt());
  if (d.vcpuList[0].blocked) h.hv.wake(d.vcpuList[0]);
  h.loop.run();
  const r = v.results[v.results.length - 1];
  return Number(long64 ? BigInt.asIntN(64, r) : BigInt.asIntN(32, r));
}

/** Writes a 64-bit xen_add_to_physmap at ARG. */
function physmapArg(d: GuestDomain, domid: number, space: number, idx: number, gpfn: number): void {
  d.memory.zero(ARG, 24);
  d.memory.writeU16(ARG, domid);
  d.memory.writeU32(ARG + 4, space);
  d.memory.writeU64(ARG + 8, idx);
  d.memory.writeU64(ARG + 16, gpfn);
}

describe('memory_op add_to_physmap', () => {
  test('shared_info maps the domain\'s shared_info frame at the gfn and moves it on a second call', () => {
    const h = harness();
    const d = h.create();
    const ge = domainServices(h.hv).guestEvents(d.id)!;
    physmapArg(d, DOMID_SELF, 0, 0, 0xfeff0);
    expect(memOp(h, d, 7, ARG)).toBe(0);
    expect(d.memory.translate(0xfeff0 * 4096)).toBe(ge.sharedInfoAddr);
    // The guest sees what the event code writes: a byte written through the host view reads back.
    ge.sharedInfo()[3072] = 0x5a;
    expect(d.memory.readU8(0xfeff0 * 4096 + 3072)).toBe(0x5a);
    physmapArg(d, d.id, 0, 0, 0xfeff1);
    expect(memOp(h, d, 7, ARG)).toBe(0);
    expect(d.memory.translate(0xfeff1 * 4096)).toBe(ge.sharedInfoAddr);
    expect(d.memory.isMapped(0xfeff0)).toBe(false);
    // Only index 0 exists for shared_info.
    physmapArg(d, DOMID_SELF, 0, 1, 0xfeff0);
    expect(memOp(h, d, 7, ARG)).toBe(-22);
  });

  test('grant_table frames grow the table, map at the gfn and record it for setup_table', () => {
    const h = harness();
    const d = h.create();
    const g = domainServices(h.hv).gnttab.domain(d.id)!;
    physmapArg(d, DOMID_SELF, 1, 1, 0xf0001);
    expect(memOp(h, d, 7, ARG)).toBe(0);
    expect(g.table.nrEntries).toBe(1024);
    expect(d.memory.translate(0xf0001 * 4096)).toBe(g.table.frameHostAddr(1));
    expect(g.table.frameGfn(1)).toBe(0xf0001);
    physmapArg(d, DOMID_SELF, 1, 1, 0xf0005);
    expect(memOp(h, d, 7, ARG)).toBe(0);
    expect(g.table.frameGfn(1)).toBe(0xf0005);
    expect(d.memory.isMapped(0xf0001)).toBe(false);
    // v2 status frames, frames past the limit, and unknown spaces are refused.
    physmapArg(d, DOMID_SELF, 1, 0x80000000, 0xf0002);
    expect(memOp(h, d, 7, ARG)).toBe(-22);
    physmapArg(d, DOMID_SELF, 1, g.table.maxFrames, 0xf0002);
    expect(memOp(h, d, 7, ARG)).toBe(-22);
    physmapArg(d, DOMID_SELF, 2, 0, 0xf0002);
    expect(memOp(h, d, 7, ARG)).toBe(-38);
  });

  test('other domains, bad gfns and bad pointers get -errno; the guest is not hurt', () => {
    const h = harness();
    const d = h.create();
    const other = h.create({ name: 'other' });
    physmapArg(d, other.id, 0, 0, 0xfeff0);
    expect(memOp(h, d, 7, ARG)).toBe(-1);
    physmapArg(d, 600, 0, 0, 0xfeff0);
    expect(memOp(h, d, 7, ARG)).toBe(-3);
    physmapArg(d, DOMID_SELF, 0, 0, 2 ** 41);
    expect(memOp(h, d, 7, ARG)).toBe(-22);
    expect(memOp(h, d, 7, 0x7fff0000)).toBe(-14);
    expect(memOp(h, d, 7, 0x8000000000000000n)).toBe(-14);
    for (const cmd of [0, 1, 6, 15, 28]) expect(memOp(h, d, cmd, ARG)).toBe(-38);
    expect(d.shutdownReason).toBeNull();
  });
});

describe('memory_op memory_map', () => {
  test('copies the domain\'s memory map as packed 20-byte e820 entries and reports the count', () => {
    const h = harness();
    const d = h.create();
    const map = d.memmap;
    expect(map.length).toBeGreaterThan(1);
    d.memory.zero(ARG, 16);
    d.memory.writeU32(ARG, 128);
    d.memory.writeU64(ARG + 8, BUF);
    expect(memOp(h, d, 9, ARG)).toBe(0);
    expect(d.memory.readU32(ARG)).toBe(map.length);
    map.forEach((e, i) => {
      expect(d.memory.readU64(BUF + 20 * i)).toBe(e.addr);
      expect(d.memory.readU64(BUF + 20 * i + 8)).toBe(e.size);
      expect(d.memory.readU32(BUF + 20 * i + 16)).toBe(e.type);
    });
    // A smaller buffer gets as many entries as fit and the count it got.
    d.memory.zero(BUF, 20 * map.length);
    d.memory.writeU32(ARG, 1);
    expect(memOp(h, d, 9, ARG)).toBe(0);
    expect(d.memory.readU32(ARG)).toBe(1);
    expect(d.memory.readU32(BUF + 20 + 16)).toBe(0);
    // A buffer in a hole is -EFAULT.
    d.memory.writeU32(ARG, 4);
    d.memory.writeU64(ARG + 8, 0x7fff0000);
    expect(memOp(h, d, 9, ARG)).toBe(-14);
  });

  test('the 32-bit ABI uses an 8-byte struct with a 32-bit buffer handle', () => {
    const h = harness();
    const d = h.create();
    d.memory.zero(ARG, 16);
    d.memory.writeU32(ARG, 2);
    d.memory.writeU32(ARG + 4, BUF);
    expect(memOp(h, d, 9, ARG, false)).toBe(0);
    expect(d.memory.readU32(ARG)).toBe(Math.min(2, d.memmap.length));
    expect(d.memory.readU64(BUF)).toBe(d.memmap[0].addr);
  });
});
