// grant_table_op through the hypercall path: query_size, setup_table, set/get_version and copy with per-op status.
import { afterEach, describe, expect, test } from '@jest/globals';
import { setShim } from '../../src/hv/abi';
import { domainServices } from '../../src/hv/evtchn/services';
import type { GuestDomain } from '../../src/hv/guestDomain';
import { halt, hypercall } from '../fakeVirt';
import { harness, poke, type Harness } from './guestHarness';

afterEach(() => setShim(undefined));

const DOMID_SELF = 0x7ff0;
const ARG = 0x3000;

/** Runs one grant_table_op(cmd, uop, count) on vCPU 0; returns its signed result. */
function gnttabOp(h: Harness, d: GuestDomain, cmd: number, uop: number, count = 1, long64 = true): number {
  const v = h.vcpu(d);
  v.queue(hypercall(20, [cmd, uop, count], { long64 }), halt());
  if (d.vcpuList[0].blocked) h.hv.wake(d.vcpuList[0]);
  h.loop.run();
  const r = v.results[v.results.length - 1];
  return Number(long64 ? BigInt.asIntN(64, r) : BigInt.asIntN(32, r));
}

const s16 = (d: GuestDomain, gpa: number): number => (d.memory.readU16(gpa) << 16) >> 16;

describe('grant_table_op', () => {
  test('query_size reports current and maximum frames; set_version takes 1 only; get_version says 1', () => {
    const h = harness();
    const d = h.create();
    d.memory.zero(ARG, 16);
    d.memory.writeU16(ARG, DOMID_SELF);
    expect(gnttabOp(h, d, 6, ARG)).toBe(0);
    expect([d.memory.readU32(ARG + 4), d.memory.readU32(ARG + 8), s16(d, ARG + 12)]).toEqual([0, 64, 0]);
    domainServices(h.hv).gnttab.domain(d.id)!.table.frameHostAddr(2);
    d.memory.writeU16(ARG, d.id);
    expect(gnttabOp(h, d, 6, ARG)).toBe(0);
    expect(d.memory.readU32(ARG + 4)).toBe(3);
    const other = h.create({ name: 'other' });
    d.memory.writeU16(ARG, other.id);
    expect(gnttabOp(h, d, 6, ARG)).toBe(0);
    expect(s16(d, ARG + 12)).toBe(-8);
    d.memory.writeU16(ARG, 600);
    expect(gnttabOp(h, d, 6, ARG)).toBe(0);
    expect(s16(d, ARG + 12)).toBe(-2);
    expect(gnttabOp(h, d, 6, ARG, 2)).toBe(-22);
    expect(gnttabOp(h, d, 6, ARG, 0xffffffff)).toBe(-22);
    // set_version: 1 is fine, 2 is not implemented (-ENOSYS, as Xen limited to v1), others -EINVAL; the version is written back.
    for (const [want, rc] of [[1, 0], [2, -38], [3, -22]]) {
      d.memory.writeU32(ARG, want);
      expect(gnttabOp(h, d, 8, ARG)).toBe(rc);
      expect(d.memory.readU32(ARG)).toBe(1);
    }
    d.memory.zero(ARG, 8);
    d.memory.writeU16(ARG, DOMID_SELF);
    expect(gnttabOp(h, d, 10, ARG)).toBe(0);
    expect(d.memory.readU32(ARG + 4)).toBe(1);
    d.memory.writeU16(ARG, 600);
    expect(gnttabOp(h, d, 10, ARG)).toBe(-3);
  });

  test('setup_table grows the table and lists each frame\'s gfn (all ones until mapped); limits and bad lists', () => {
    const h = harness();
    const d = h.create();
    const setup = (dom: number, nr: number, list: number): number => {
      d.memory.zero(ARG, 24);
      d.memory.writeU16(ARG, dom);
      d.memory.writeU32(ARG + 4, nr);
      d.memory.writeU32(ARG + 16, list);
      expect(gnttabOp(h, d, 2, ARG)).toBe(0);
      return s16(d, ARG + 8);
    };
    const g = domainServices(h.hv).gnttab.domain(d.id)!;
    expect(setup(DOMID_SELF, 2, 0x3100)).toBe(0);
    g.table.setFrameGfn(1, 0x99);
    expect(setup(DOMID_SELF, 2, 0x3100)).toBe(0);
    expect(Array.from(d.memory.read(0x3100, 8))).toEqual(new Array(8).fill(0xff));
    expect(d.memory.readU64(0x3108)).toBe(0x99);
    expect(g.table.nrFrames).toBe(2);
    expect(setup(DOMID_SELF, 65, 0x3100)).toBe(-1);
    expect(g.table.nrFrames).toBe(2);
    expect(setup(600, 1, 0x3100)).toBe(-2);
    expect(setup(DOMID_SELF, 1, 0x10000000)).toBe(-5);
    // The 32-bit layout: frame_list at 12, 4-byte entries.
    d.memory.zero(ARG, 16);
    d.memory.writeU16(ARG, DOMID_SELF);
    d.memory.writeU32(ARG + 4, 2);
    d.memory.writeU32(ARG + 12, 0x3200);
    expect(gnttabOp(h, d, 2, ARG, 1, false)).toBe(0);
    expect([s16(d, ARG + 8), d.memory.readU32(0x3200), d.memory.readU32(0x3204)]).toEqual([0, 0xffffffff, 0x99]);
  });

  test('copy, op by op: own page to a grant and back, each status written, bad offsets refused', () => {
    const h = harness();
    const a = h.create({ name: 'a' });
    const b = h.create({ name: 'b' });
    // b grants its gfn 6 to a as ref 5.
    const gb = domainServices(h.hv).gnttab.domain(b.id)!;
    const e = new DataView(h.fake.physView(gb.table.frameHostAddr(0)!, 4096), 5 * 8, 8);
    e.setUint32(4, 6, true);
    e.setUint16(2, a.id, true);
    e.setUint16(0, 1, true);
    poke(a, 0x4000 + 10, 'hello');
    const ptr = (at: number, refOrGfn: number, dom: number, off: number): void => {
      a.memory.writeU64(at, refOrGfn);
      a.memory.writeU16(at + 8, dom);
      a.memory.writeU16(at + 10, off);
    };
    const copy = (i: number, src: [number, number, number], dst: [number, number, number], len: number, flags: number): void => {
      const at = ARG + 40 * i;
      a.memory.zero(at, 40);
      ptr(at, ...src);
      ptr(at + 16, ...dst);
      a.memory.writeU16(at + 32, len);
      a.memory.writeU16(at + 34, flags);
      a.memory.writeU16(at + 36, 0x7777);
    };
    copy(0, [4, DOMID_SELF, 10], [5, b.id, 20], 5, 2);
    copy(1, [5, b.id, 20], [7, DOMID_SELF, 0], 5, 1);
    copy(2, [4, DOMID_SELF, 4000], [5, b.id, 0], 100, 2);
    copy(3, [4, b.id, 0], [7, DOMID_SELF, 0], 1, 0);
    copy(4, [5, b.id, 0], [0x100000, DOMID_SELF, 0], 1, 1);
    expect(gnttabOp(h, a, 5, ARG, 5)).toBe(0);
    expect([0, 1, 2, 3, 4].map((i) => s16(a, ARG + 40 * i + 36))).toEqual([0, 0, -10, -8, -9]);
    expect(Buffer.from(b.memory.read(0x6000 + 20, 5)).toString()).toBe('hello');
    expect(Buffer.from(a.memory.read(0x7000, 5)).toString()).toBe('hello');
    expect(e.getUint16(0, true)).toBe(1);
    // b has not granted anything to itself: its copy from the grant is refused.
    b.memory.zero(ARG, 40);
    b.memory.writeU64(ARG, 5);
    b.memory.writeU16(ARG + 8, b.id);
    b.memory.writeU64(ARG + 16, 7);
    b.memory.writeU16(ARG + 24, DOMID_SELF);
    b.memory.writeU16(ARG + 32, 1);
    b.memory.writeU16(ARG + 34, 1);
    expect(gnttabOp(h, b, 5, ARG, 1)).toBe(0);
    expect(s16(b, ARG + 36)).toBe(-1);
  });

  test('copy in the 32-bit layout: 8-byte sides, status at 20', () => {
    const h = harness();
    const d = h.create();
    poke(d, 0x4000, 'xyz');
    d.memory.zero(ARG, 24);
    d.memory.writeU32(ARG, 4);
    d.memory.writeU16(ARG + 4, DOMID_SELF);
    d.memory.writeU16(ARG + 6, 0);
    d.memory.writeU32(ARG + 8, 5);
    d.memory.writeU16(ARG + 12, DOMID_SELF);
    d.memory.writeU16(ARG + 14, 9);
    d.memory.writeU16(ARG + 16, 3);
    d.memory.writeU16(ARG + 20, 0x7777);
    expect(gnttabOp(h, d, 5, ARG, 1, false)).toBe(0);
    expect(s16(d, ARG + 20)).toBe(0);
    expect(Buffer.from(d.memory.read(0x5009, 3)).toString()).toBe('xyz');
  });

  test('map and unmap are refused to guests; over-long copies, bad pointers and unknown ops fail', () => {
    const h = harness();
    const d = h.create();
    expect(gnttabOp(h, d, 0, ARG)).toBe(-38);
    expect(gnttabOp(h, d, 1, ARG)).toBe(-38);
    expect(gnttabOp(h, d, 42, ARG)).toBe(-38);
    expect(gnttabOp(h, d, 5, ARG, 1025)).toBe(-22);
    expect(gnttabOp(h, d, 6, 0x10000000)).toBe(-14);
    expect(gnttabOp(h, d, 5, 0x3ffff0, 2)).toBe(-14);
  });
});
