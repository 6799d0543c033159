// Tests for the PVH layout: the guest-physical plan, kernel/ramdisk loading, hvm_start_info and the initial vCPU.
import { describe, expect, test } from '@jest/globals';
import { ElfError } from '../../src/hv/elf';
import { GuestMemory } from '../../src/hv/guestMemory';
import {
  E820_ACPI,
  E820_RAM,
  E820_RESERVED,
  HVM_START_MAGIC,
  loadPvhGuest,
  LOWMEM_END,
  planGuestPhysical,
  pvhInitialVcpu,
} from '../../src/hv/pvhLayout';
import { buildElf, leBytes } from './elfBuilder';
import { FakeFrames } from './fakeFrames';

const MIB = 1048576;
const PAGE = 4096;

function kernel(opts: { paddr?: number; entry?: number; note?: boolean; textSize?: number; bss?: number } = {}): Uint8Array {
  const paddr = opts.paddr === undefined ? 0x1000000 : opts.paddr;
  const text = new Uint8Array(opts.textSize || 5000).map((_, i) => (i * 13 + 1) & 0xff);
  return buildElf({
    entry: 0xffffffff81000000,
    segments: [
      { paddr, vaddr: 0xffffffff81000000, data: text, flags: 5 },
      { paddr: paddr + 0x2000, data: new Uint8Array(300).fill(0x77), memsz: 300 + (opts.bss === undefined ? 3 * PAGE : opts.bss), flags: 6 },
    ],
    notes: opts.note === false ? [] : [{ owner: 'Xen', type: 18, desc: leBytes(opts.entry === undefined ? paddr + 0x10 : opts.entry, 8) }],
  });
}

function guest(memoryMiB = 32, extra?: { gpa: number; size: number; type: number }[]): { mem: GuestMemory; plan: ReturnType<typeof planGuestPhysical>; fake: FakeFrames } {
  const plan = planGuestPhysical(memoryMiB, { extra });
  const fake = new FakeFrames();
  return { mem: GuestMemory.create(fake, plan.populate), plan, fake };
}

function readString(mem: GuestMemory, gpa: number): string {
  let s = '';
  for (let c = mem.readU8(gpa); c !== 0; c = mem.readU8(++gpa)) s += String.fromCharCode(c);
  return s;
}

describe('guest-physical plan', () => {
  test('32 MiB: RAM from 0 and Xen\'s special pages, reserved', () => {
    const plan = planGuestPhysical(32);
    expect(plan.memmap).toEqual([
      { addr: 0, size: 32 * MIB, type: E820_RAM },
      { addr: 0xfeff8000, size: 8 * PAGE, type: E820_RESERVED },
    ]);
    expect(plan.populate).toEqual([{ gfn: 0, count: 8192 }, { gfn: 0xfeff8, count: 8 }]);
  });

  test('4 GiB: RAM stops at the MMIO hole and resumes above 4 GiB', () => {
    const plan = planGuestPhysical(4096);
    expect(plan.ram).toEqual([
      { addr: 0, size: LOWMEM_END, type: E820_RAM },
      { addr: 2 ** 32, size: 4096 * MIB - LOWMEM_END, type: E820_RAM },
    ]);
    expect(plan.memmap.map((m) => m.type)).toEqual([E820_RAM, E820_RESERVED, E820_RAM]);
    expect(plan.populate).toEqual([{ gfn: 0, count: LOWMEM_END / PAGE }, { gfn: 0xfeff8, count: 8 }, { gfn: 0x100000, count: 16384 }]);
  });

  test('extra hypervisor-owned regions: outside RAM they are added, inside RAM they are carved out', () => {
    const plan = planGuestPhysical(32, { extra: [{ gpa: 0xfc000000, size: 2 * PAGE, type: E820_ACPI }, { gpa: 0xe0000, size: 0x20000, type: E820_RESERVED }] });
    expect(plan.memmap).toEqual([
      { addr: 0, size: 0xe0000, type: E820_RAM },
      { addr: 0xe0000, size: 0x20000, type: E820_RESERVED },
      { addr: 0x100000, size: 32 * MIB - 0x100000, type: E820_RAM },
      { addr: 0xfc000000, size: 2 * PAGE, type: E820_ACPI },
      { addr: 0xfeff8000, size: 8 * PAGE, type: E820_RESERVED },
    ]);
    expect(plan.populate).toEqual([{ gfn: 0, count: 8192 }, { gfn: 0xfc000, count: 2 }, { gfn: 0xfeff8, count: 8 }]);
  });

  test('bad plans are refused', () => {
    expect(() => planGuestPhysical(0)).toThrow(/between 1 and/);
    expect(() => planGuestPhysical(1.5)).toThrow(/whole number/);
    expect(() => planGuestPhysical(32, { extra: [{ gpa: 0xfeffc000, size: PAGE, type: 2 }] })).toThrow(/overlaps/);
    expect(() => planGuestPhysical(32, { extra: [{ gpa: 0x1000, size: 100, type: 2 }] })).toThrow(/page-aligned/);
    expect(() => planGuestPhysical(32, { extra: [{ gpa: 0x1000, size: PAGE, type: 1 }] })).toThrow(/type 1/);
  });
});

describe('loading a PVH guest', () => {
  test('kernel, ramdisk, command line and hvm_start_info land where the ABI says', () => {
    const { mem, plan } = guest(32);
    // Garbage first, so zeroing of .bss and of the special pages is observable.
    mem.write(0x1002000, new Uint8Array(300 + 3 * PAGE).fill(0xaa));
    mem.write(0xfeff8000, new Uint8Array(8 * PAGE).fill(0xbb));
    const image = kernel();
    const ramdisk = new Uint8Array(10000).map((_, i) => i & 0xff);
    const l = loadPvhGuest(mem, plan, { kernel: image, ramdisk, cmdline: 'console=hvc0 earlyprintk=xen é', rsdpPaddr: 0xfc000000 });

    expect(l.entry).toBe(0x1000010);
    expect(l.kernelStart).toBe(0x1000000);
    expect(l.kernelEnd).toBe(0x1002000 + 300 + 3 * PAGE);
    expect(mem.read(0x1000000, 5000).every((b, i) => b === ((i * 13 + 1) & 0xff))).toBe(true);
    expect(mem.read(0x1002000, 300).every((b) => b === 0x77)).toBe(true);
    expect(mem.read(0x1002000 + 300, 3 * PAGE).every((b) => b === 0)).toBe(true);

    expect(l.ramdisk).toEqual({ gpa: 0x1006000, size: 10000 });
    expect(mem.read(0x1006000, 10000).every((b, i) => b === (i & 0xff))).toBe(true);
    expect(l.startInfoGpa).toBe(0x1006000 + 3 * PAGE);
    expect(l.startInfoGpa % PAGE).toBe(0);

    const si = l.startInfoGpa;
    expect(mem.readU32(si)).toBe(HVM_START_MAGIC);
    expect(mem.readU32(si + 4)).toBe(1);
    expect(mem.readU32(si + 8)).toBe(0);
    expect(mem.readU32(si + 12)).toBe(1);
    expect(mem.readU64(si + 16)).toBe(l.modlistGpa);
    expect(mem.readU64(si + 24)).toBe(l.cmdlineGpa);
    expect(mem.readU64(si + 32)).toBe(0xfc000000);
    expect(mem.readU64(si + 40)).toBe(l.memmapGpa);
    expect(mem.readU32(si + 48)).toBe(2);
    expect(mem.readU32(si + 52)).toBe(0);
    expect(l.cmdlineGpa).toBe(si + 56);
    expect(readString(mem, l.cmdlineGpa)).toBe('console=hvc0 earlyprintk=xen \xc3\xa9');
    expect([mem.readU64(l.modlistGpa), mem.readU64(l.modlistGpa + 8), mem.readU64(l.modlistGpa + 16), mem.readU64(l.modlistGpa + 24)]).toEqual([0x1006000, 10000, 0, 0]);
    const entries = [];
    for (let i = 0; i < 2; i++) {
      const e = l.memmapGpa + 24 * i;
      entries.push({ addr: mem.readU64(e), size: mem.readU64(e + 8), type: mem.readU32(e + 16), reserved: mem.readU32(e + 20) });
    }
    expect(entries).toEqual([
      { addr: 0, size: 32 * MIB, type: 1, reserved: 0 },
      { addr: 0xfeff8000, size: 0x8000, type: 2, reserved: 0 },
    ]);
    expect(l.bootInfoEnd).toBe(l.memmapGpa + 48);
    expect(l.xenstoreGfn).toBe(0xfeffc);
    expect(l.consoleGfn).toBe(0xfefff);
    expect(mem.read(0xfeff8000, 8 * PAGE).every((b) => b === 0)).toBe(true);
    expect(l.vcpu.rip).toBe(0x1000010);
    expect(l.vcpu.rbx).toBe(si);
  });

  test('no ramdisk and no command line leave those fields 0', () => {
    const { mem, plan } = guest(32);
    const l = loadPvhGuest(mem, plan, { kernel: kernel() });
    expect(l.ramdisk).toBeNull();
    expect(mem.readU32(l.startInfoGpa + 12)).toBe(0);
    expect(mem.readU64(l.startInfoGpa + 16)).toBe(0);
    expect(mem.readU64(l.startInfoGpa + 24)).toBe(0);
    expect(l.memmapGpa).toBe(l.startInfoGpa + 56);
  });

  test('when nothing fits after the kernel, the lowest free RAM above 1 MiB is used', () => {
    const { mem, plan } = guest(32);
    const high = kernel({ paddr: 32 * MIB - 0x6000, bss: PAGE - 300 });
    const a = loadPvhGuest(mem, plan, { kernel: high, ramdisk: new Uint8Array(PAGE * 3) });
    expect(a.kernelEnd).toBe(32 * MIB - 0x3000);
    expect(a.ramdisk && a.ramdisk.gpa).toBe(32 * MIB - 0x3000);
    expect(a.startInfoGpa).toBe(MIB);
    const b = loadPvhGuest(mem, plan, { kernel: high, ramdisk: new Uint8Array(PAGE * 4) });
    expect(b.ramdisk && b.ramdisk.gpa).toBe(MIB);
    expect(b.startInfoGpa).toBe(MIB + 4 * PAGE);
  });

  test('segments outside RAM or over hypervisor-owned pages are refused', () => {
    const { mem, plan } = guest(32, [{ gpa: 0x200000, size: PAGE, type: 2 }]);
    expect(() => loadPvhGuest(mem, plan, { kernel: kernel({ paddr: 0x3000000 }) })).toThrow(/0x3000000-.* lies outside guest RAM \(guest has 32 MiB\)/);
    expect(() => loadPvhGuest(mem, plan, { kernel: kernel({ paddr: 0x1ff000 }) })).toThrow(/overlaps hypervisor-owned pages/);
    expect(() => loadPvhGuest(mem, plan, { kernel: kernel({ paddr: 0x1ffe000 }) })).toThrow(/lies outside guest RAM/);
  });

  test('bad kernels and inputs give clear errors', () => {
    const { mem, plan } = guest(32);
    expect(() => loadPvhGuest(mem, plan, { kernel: kernel({ note: false }) })).toThrow(ElfError);
    expect(() => loadPvhGuest(mem, plan, { kernel: kernel({ note: false }) })).toThrow(/not a PVH kernel/);
    expect(() => loadPvhGuest(mem, plan, { kernel: kernel({ entry: 0x5000 }) })).toThrow(/entry 0x5000 is not inside any loaded segment/);
    expect(() => loadPvhGuest(mem, plan, { kernel: new Uint8Array([1, 2, 3]) })).toThrow(/not an ELF file/);
    expect(() => loadPvhGuest(mem, plan, { kernel: 'vmlinux' as unknown as Uint8Array })).toThrow(/bytes of an ELF image/);
    const overlapping = buildElf({
      segments: [{ paddr: 0x100000, data: new Uint8Array(0x2000) }, { paddr: 0x101000, data: new Uint8Array(16) }],
      notes: [{ owner: 'Xen', type: 18, desc: leBytes(0x100000, 4) }],
    });
    expect(() => loadPvhGuest(mem, plan, { kernel: overlapping })).toThrow(/overlaps another kernel segment/);
    expect(() => loadPvhGuest(mem, plan, { kernel: kernel(), cmdline: 'x'.repeat(2048) })).toThrow(/2048 bytes; Linux takes at most 2047/);
    expect(() => loadPvhGuest(mem, plan, { kernel: kernel(), cmdline: 'a\0b' })).toThrow(/NUL/);
    expect(() => loadPvhGuest(mem, plan, { kernel: kernel(), ramdisk: new Uint8Array(40 * MIB) })).toThrow(/no room for the ramdisk/);
    expect(() => loadPvhGuest(mem, plan, { kernel: kernel(), rsdpPaddr: -4 })).toThrow(/bad RSDP/);
    const fake = new FakeFrames();
    const ramOnly = GuestMemory.create(fake, [{ gfn: 0, count: 8192 }]);
    expect(() => loadPvhGuest(ramOnly, plan, { kernel: kernel() })).toThrow(/special pages are not populated/);
  });
});

test('initial vCPU state follows pvh.pandoc in SVM attribute format', () => {
  const v = pvhInitialVcpu(0x1000850, 0x4a00000);
  expect(v.rip).toBe(0x1000850);
  expect(v.rbx).toBe(0x4a00000);
  expect(v.cr0).toBe(0x11);
  expect(v.cr4).toBe(0);
  expect(v.efer).toBe(0);
  expect(v.rflags).toBe(2);
  expect(v.cs).toEqual({ selector: 0x08, base: 0, limit: 0xffffffff, attrib: 0xc9b });
  for (const s of [v.ds, v.es, v.ss]) expect(s).toEqual({ selector: 0x10, base: 0, limit: 0xffffffff, attrib: 0xc93 });
  expect(v.tr).toEqual({ selector: 0x18, base: 0, limit: 0x67, attrib: 0x8b });
  // CS: present, code, 32-bit default size (D), 4 KiB granularity, not 64-bit (L clear).
  expect(v.cs.attrib & 0x80).toBe(0x80);
  expect(v.cs.attrib & 0x200).toBe(0);
  expect(v.cs.attrib & 0x400).toBe(0x400);
  expect(v.cs.attrib & 0x800).toBe(0x800);
  expect(v.ds).not.toBe(v.es);
  expect(v.pat).toBe(0x0007040600070406);
});
