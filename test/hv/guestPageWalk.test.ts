// Tests for guest page walks: every paging mode, rights, reserved bits, A/D bits and page-by-page copies.
import { beforeEach, describe, expect, test } from '@jest/globals';
import { GuestMemory } from '../../src/hv/guestMemory';
import {
  copyFromGuest,
  copyToGuest,
  GuestFaultError,
  linearFromHalves,
  MAX_COPY_BYTES,
  pagingMode,
  PagingRegs,
  translateLinear,
  WalkResult,
} from '../../src/hv/guestPageWalk';
import { FakeFrames } from './fakeFrames';

const PAGE = 4096;
const P = 1, RW = 2, US = 4, A = 0x20, D = 0x40, PS = 0x80;
const PG = 0x80000000, WP = 0x10000, PE = 1;
const PSE = 0x10, PAE = 0x20, LA57 = 0x1000;
const LME = 0x100, LMA = 0x400, NXE = 0x800;

let mem: GuestMemory;
beforeEach(() => {
  mem = GuestMemory.create(new FakeFrames(), [{ gfn: 0, count: 4096 }]);
});

const ok = (r: WalkResult): { gpa: number; pageSize: number } => {
  if (!r.ok) throw new Error(`unexpected fault: ${r.fault.message}`);
  return { gpa: r.gpa, pageSize: r.pageSize };
};
const bad = (r: WalkResult): { kind: string; errorCode: number; level: number; message: string } => {
  if (r.ok) throw new Error(`expected a fault, got gpa ${r.gpa.toString(16)}`);
  return r.fault;
};
function set64(gpa: number, addr: number, flags: number, nx = false): void {
  mem.writeU32(gpa, ((addr % 2 ** 32) + flags) >>> 0);
  mem.writeU32(gpa + 4, Math.floor(addr / 2 ** 32) + (nx ? 0x80000000 : 0));
}

test('paging modes are read from CR0, CR4 and EFER', () => {
  expect(pagingMode({ cr0: PE, cr3: 0, cr4: 0, efer: 0 })).toBe('off');
  expect(pagingMode({ cr0: PE | PG, cr3: 0, cr4: 0, efer: 0 })).toBe('32bit');
  expect(pagingMode({ cr0: PE | PG, cr3: 0, cr4: PAE, efer: 0 })).toBe('pae');
  expect(pagingMode({ cr0: PE | PG, cr3: 0, cr4: PAE, efer: LME | LMA })).toBe('long');
  expect(pagingMode({ cr0: PE | PG, cr3: 0, cr4: PAE | LA57, efer: LME | LMA })).toBe('la57');
});

describe('paging off', () => {
  const regs: PagingRegs = { cr0: PE, cr3: 0, cr4: 0, efer: 0 };
  test('linear is physical, limited to 4 GiB', () => {
    expect(ok(translateLinear(mem, regs, 0x12345))).toEqual({ gpa: 0x12345, pageSize: PAGE });
    expect(bad(translateLinear(mem, regs, 2 ** 32)).kind).toBe('out-of-range');
    expect(bad(translateLinear(mem, regs, -1)).kind).toBe('out-of-range');
    expect(bad(translateLinear(mem, regs, 1.5)).kind).toBe('out-of-range');
  });
});

describe('32-bit paging', () => {
  const regs: PagingRegs = { cr0: PE | PG | WP, cr3: 0x10000, cr4: PSE, efer: 0 };
  beforeEach(() => {
    mem.writeU32(0x10000 + 1 * 4, 0x11000 | P | RW | US); // 4 MiB at gla 0x400000 through a PT
    mem.writeU32(0x11000 + 0 * 4, 0x200000 | P | RW | US);
    mem.writeU32(0x11000 + 1 * 4, 0x300000 | P); // read-only, supervisor
    mem.writeU32(0x10000 + 2 * 4, 0xc00000 | P | RW | PS); // 4 MiB page at 0x800000
    mem.writeU32(0x10000 + 3 * 4, (0x400000 | P | RW | PS | (0x3 << 13)) >>> 0); // PSE-36: bits 32-33
  });

  test('4 KiB and 4 MiB pages, PSE-36 high bits', () => {
    expect(ok(translateLinear(mem, regs, 0x400123))).toEqual({ gpa: 0x200123, pageSize: PAGE });
    expect(ok(translateLinear(mem, regs, 0x401fff))).toEqual({ gpa: 0x300fff, pageSize: PAGE });
    expect(ok(translateLinear(mem, regs, 0x8abcde))).toEqual({ gpa: 0xcabcde, pageSize: 0x400000 });
    expect(ok(translateLinear(mem, regs, 0xc00010)).gpa).toBe(3 * 2 ** 32 + 0x400010);
    // Without CR4.PSE the PS bit is ignored and the entry points at a page table.
    expect(bad(translateLinear(mem, { ...regs, cr4: 0 }, 0x800000)).level).toBe(1);
    mem.writeU32(0xc00000, 0x777000 | P);
    expect(ok(translateLinear(mem, { ...regs, cr4: 0 }, 0x800010)).gpa).toBe(0x777010);
  });

  test('rights: write to read-only, user to supervisor, CR0.WP', () => {
    const w = bad(translateLinear(mem, regs, 0x401000, { write: true }));
    expect([w.kind, w.errorCode, w.level]).toEqual(['protection', 3, 1]);
    expect(ok(translateLinear(mem, { ...regs, cr0: PE | PG }, 0x401000, { write: true })).gpa).toBe(0x300000);
    const u = bad(translateLinear(mem, regs, 0x401000, { user: true }));
    expect([u.kind, u.errorCode]).toEqual(['protection', 5]);
    expect(bad(translateLinear(mem, regs, 0x800000, { user: true })).level).toBe(2);
    expect(bad(translateLinear(mem, { ...regs, cr0: PE | PG }, 0x401000, { user: true, write: true })).errorCode).toBe(7);
    const np = bad(translateLinear(mem, regs, 0x402000, { write: true }));
    expect([np.kind, np.errorCode]).toEqual(['not-present', 2]);
    expect(bad(translateLinear(mem, regs, 0x10000000)).kind).toBe('not-present');
  });

  test('accessed and dirty bits are set only by successful walks', () => {
    translateLinear(mem, regs, 0x400000, { write: true });
    expect(mem.readU32(0x10004) & (A | D)).toBe(A);
    expect(mem.readU32(0x11000) & (A | D)).toBe(A | D);
    translateLinear(mem, regs, 0x401000, { write: true });
    expect(mem.readU32(0x11004) & A).toBe(0);
    translateLinear(mem, regs, 0x401000);
    expect(mem.readU32(0x11004) & (A | D)).toBe(A);
    translateLinear(mem, regs, 0x800000, { write: true, setAccessedDirty: false });
    expect(mem.readU32(0x10008) & (A | D)).toBe(0);
  });

  test('reserved bit 21 in a 4 MiB entry', () => {
    mem.writeU32(0x10000 + 4 * 4, 0xc00000 | P | PS | 0x200000);
    expect(bad(translateLinear(mem, regs, 0x1000000)).kind).toBe('reserved-bit');
    expect(bad(translateLinear(mem, regs, 0x1000000)).errorCode & 9).toBe(9);
  });
});

describe('PAE paging', () => {
  const regs: PagingRegs = { cr0: PE | PG | WP, cr3: 0x20020, cr4: PAE, efer: NXE };
  beforeEach(() => {
    set64(0x20020 + 1 * 8, 0x21000, P); // PDPTE for 1-2 GiB
    set64(0x21000 + 0, 0x22000, P | RW | US);
    set64(0x22000 + 5 * 8, 0x345000, P | RW | US, true);
    set64(0x21000 + 8, 0x600000, P | RW | PS);
  });

  test('4 KiB and 2 MiB pages through a 32-byte-aligned PDPT', () => {
    expect(ok(translateLinear(mem, regs, 0x40005abc))).toEqual({ gpa: 0x345abc, pageSize: PAGE });
    expect(ok(translateLinear(mem, regs, 0x40212345))).toEqual({ gpa: 0x612345, pageSize: 0x200000 });
    expect(bad(translateLinear(mem, regs, 0x00005000)).level).toBe(3);
  });

  test('PDPTE reserved bits and NX without EFER.NXE', () => {
    expect(bad(translateLinear(mem, { ...regs, efer: 0 }, 0x40005000)).kind).toBe('reserved-bit');
    set64(0x20020 + 1 * 8, 0x21000, P | RW);
    expect(bad(translateLinear(mem, regs, 0x40212345)).message).toMatch(/PAE PDPT entry/);
  });

  test('large-page address bits above PAT are reserved', () => {
    set64(0x21000 + 16, 0x600000 + 0x1000, P | PS); // bit 12 = PAT: allowed
    expect(ok(translateLinear(mem, regs, 0x40400000)).gpa).toBe(0x600000);
    set64(0x21000 + 16, 0x600000 + 0x2000, P | PS);
    expect(bad(translateLinear(mem, regs, 0x40400000)).kind).toBe('reserved-bit');
  });
});

describe('4-level long mode', () => {
  const regs: PagingRegs = { cr0: PE | PG | WP, cr3: 0x30000, cr4: PAE, efer: LME | LMA | NXE };
  const kernelAddr = linearFromHalves(0x80001000, 0xffff8880) as number; // 0xffff888080001000

  beforeEach(() => {
    set64(0x30000 + 0x111 * 8, 0x31000, P | RW); // PML4[273] covers 0xffff888000000000
    set64(0x31000 + 2 * 8, 0x32000, P | RW);
    set64(0x32000 + 0, 0x33000, P | RW);
    set64(0x33000 + 1 * 8, 0x456000, P | RW);
    set64(0x33000 + 2 * 8, 0x123000, P | RW);
    set64(0x30000 + 0, 0x34000, P | RW | US);
    set64(0x34000 + 1 * 8, 0x40000000, P | RW | US | PS); // 1 GiB page at 1 GiB
    set64(0x34000 + 0, 0x35000, P | RW | US);
    set64(0x35000 + 3 * 8, 0xa00000, P | US | PS); // 2 MiB read-only at 6 MiB
  });

  test('sign-extended kernel addresses, 1 GiB and 2 MiB pages', () => {
    expect(kernelAddr).toBe(-(2 ** 64 - 0xffff888080001000));
    expect(ok(translateLinear(mem, regs, kernelAddr + 0x10))).toEqual({ gpa: 0x456010, pageSize: PAGE });
    expect(ok(translateLinear(mem, regs, 0x7654321 + 0x40000000))).toEqual({ gpa: 0x47654321, pageSize: 2 ** 30 });
    expect(ok(translateLinear(mem, regs, 0x600000 + 0x1234, { user: true }))).toEqual({ gpa: 0xa01234, pageSize: 0x200000 });
    expect(bad(translateLinear(mem, regs, 0x600000, { write: true })).kind).toBe('protection');
    expect(bad(translateLinear(mem, regs, kernelAddr, { user: true })).errorCode).toBe(5);
  });

  test('non-canonical, LA57 and reserved bits', () => {
    expect(bad(translateLinear(mem, regs, 2 ** 47)).kind).toBe('non-canonical');
    expect(bad(translateLinear(mem, regs, -(2 ** 47) - 1)).kind).toBe('non-canonical');
    expect(bad(translateLinear(mem, { ...regs, cr4: PAE | LA57 }, 0)).kind).toBe('unsupported');
    set64(0x30000 + 8, 0x36000, P | RW | PS);
    const f = bad(translateLinear(mem, regs, 2 ** 39));
    expect([f.kind, f.level, f.errorCode]).toEqual(['reserved-bit', 4, 9]);
    set64(0x30000 + 8, 0x36000, P | RW, true);
    expect(bad(translateLinear(mem, { ...regs, efer: LME | LMA }, 2 ** 39)).message).toMatch(/NX bit/);
  });

  test('a page table outside guest memory is a bad-gpa fault, not a crash', () => {
    set64(0x30000 + 16, 0x7fff0000000, P | RW);
    const f = bad(translateLinear(mem, regs, 2 * 2 ** 39));
    expect([f.kind, f.level]).toEqual(['bad-gpa', 3]);
  });

  test('copies walk page by page and stitch non-contiguous pages', () => {
    mem.write(0x456ff0, new Uint8Array(16).fill(1));
    mem.write(0x123000, new Uint8Array(16).fill(2));
    const got = copyFromGuest(mem, regs, kernelAddr + 0xff0, 32);
    expect(Array.from(got)).toEqual(new Array(16).fill(1).concat(new Array(16).fill(2)));
    copyToGuest(mem, regs, kernelAddr + 0xffe, new Uint8Array([9, 8, 7, 6]));
    expect(Array.from(mem.read(0x456ffe, 2))).toEqual([9, 8]);
    expect(Array.from(mem.read(0x123000, 2))).toEqual([7, 6]);
    expect(mem.readU32(0x33000 + 2 * 8) & (A | D)).toBe(A | D);
  });

  test('a fault in any page copies nothing and carries EFAULT', () => {
    mem.write(0x123ff0, new Uint8Array(16).fill(5));
    let err: unknown = null;
    try {
      copyToGuest(mem, regs, kernelAddr + 0x1ff0, new Uint8Array(32).fill(0xee));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GuestFaultError);
    expect((err as GuestFaultError).errno).toBe(-14);
    expect((err as GuestFaultError).fault.kind).toBe('not-present');
    expect(Array.from(mem.read(0x123ff0, 16))).toEqual(new Array(16).fill(5));
    // The last page of the lower half is mapped; the copy runs off its end into non-canonical space.
    set64(0x30000 + 255 * 8, 0x37000, P | RW);
    set64(0x37000 + 511 * 8, 0x38000, P | RW);
    set64(0x38000 + 511 * 8, 0x39000, P | RW);
    set64(0x39000 + 511 * 8, 0x3a000, P | RW);
    expect(copyFromGuest(mem, regs, 2 ** 47 - 8, 8)).toHaveLength(8);
    expect(() => copyFromGuest(mem, regs, 2 ** 47 - 8, 16)).toThrow(/non-canonical/);
    expect(() => copyFromGuest(mem, regs, kernelAddr, MAX_COPY_BYTES + 1)).toThrow(GuestFaultError);
    expect(() => copyFromGuest(mem, regs, kernelAddr, -1)).toThrow(GuestFaultError);
    expect(copyFromGuest(mem, regs, 2 ** 47 + 5, 0)).toHaveLength(0);
  });

  test('a data page outside guest memory faults the copy', () => {
    set64(0x33000 + 3 * 8, 0x7ffff000, P | RW);
    expect(() => copyFromGuest(mem, regs, kernelAddr + 0x2000, 4)).toThrow(/not in guest memory/);
  });
});

test('linearFromHalves keeps canonical addresses exact and rejects the rest', () => {
  expect(linearFromHalves(0x12345678, 0x7fff)).toBe(0x7fff12345678);
  expect(linearFromHalves(0x12345678, 0xffff8000)).toBe(-(2 ** 47) + 0x12345678);
  expect(linearFromHalves(0xffffffff, 0xffffffff)).toBe(-1);
  expect(linearFromHalves(0, 0x8000)).toBeNull();
  expect(linearFromHalves(0, 0xfffe0000)).toBeNull();
});
