// Lays out a PVH guest per Xen's PVH boot ABI: guest-physical map, kernel, ramdisk, hvm_start_info, vCPU state.
//
// Public API:
//   planGuestPhysical(memoryMiB, {extra?})  -> GuestPhysPlan: RAM ranges, the special pages, the
//       memory map and the gfn ranges to populate (hand plan.populate to GuestMemory.create).
//   loadPvhGuest(mem, plan, {kernel, ramdisk?, cmdline?, rsdpPaddr?}) -> PvhLayout: loads the
//       ELF's PT_LOAD segments by physical address, places the ramdisk (module 0), the command
//       line and hvm_start_info (version 1) with its memory map and modlist, and returns the
//       addresses and the initial vCPU state.
//   pvhInitialVcpu(entry, startInfoGpa) -> VcpuState: the register state pvh.pandoc prescribes.
//
// Guest-physical map (what libxl builds for a PVH domU without a device model):
//   RAM       0 .. min(memory, 0xFC000000); the rest of RAM from 4 GiB up. libxl starts the
//             MMIO hole at the lowest of the special pages, the LAPIC (0xFEE00000) and the
//             ACPI info area (0xFC000000), so RAM below 4 GiB ends at 0xFC000000.
//   special   pfn 0xfeff8-0xfefff (X86_HVM_END_SPECIAL_REGION 0xff000, 8 pages): console at
//             0xfefff, xenstore at 0xfeffc, as Xen's xg_dom_x86.c. They are populated beyond
//             RAM and marked reserved in the memory map, like every hypervisor-owned page.
//             Choice: always this fixed region (never the top of RAM), because RAM below 4 GiB
//             never reaches it, it is what Xen guests see, and it costs only two page tables.
//   extra     hypervisor-owned regions (ACPI tables...) given by the caller: populated, and
//             typed in the memory map as asked (carved out of RAM if they overlap it).
// Placement mirrors Xen: the ramdisk right after the kernel's last segment, then one block
// holding hvm_start_info, the command line, the modlist and the memory map; if that space is
// taken, the lowest free RAM above 1 MiB and below 4 GiB that fits is used.

import { ElfImage, loadSegments, parseElf, phys32Entry } from './elf';
import { GfnRange, PAGE_SIZE } from './guestMemory';
import { hex } from './hex';
import { encodeUtf8 } from '../runtime/utf8';

export const HVM_START_MAGIC = 0x336ec578;
export const E820_RAM = 1;
export const E820_RESERVED = 2;
export const E820_ACPI = 3;
export const E820_NVS = 4;
/** RAM below 4 GiB ends here (libxl: ACPI_INFO_PHYSICAL_ADDRESS, the start of the MMIO hole). */
export const LOWMEM_END = 0xfc000000;
export const FOUR_GIB = 0x100000000;
export const SPECIAL_PAGES_END_GFN = 0xff000;
export const SPECIAL_PAGES_COUNT = 8;
export const SPECIAL_PAGES_GFN = SPECIAL_PAGES_END_GFN - SPECIAL_PAGES_COUNT;
/** Offsets in the special region (xg_dom_x86.c SPECIALPAGE_*). */
export const SPECIAL_PAGE = { paging: 0, access: 1, sharing: 2, bufioreq: 3, xenstore: 4, ioreq: 5, identPt: 6, console: 7 };
/** Linux's COMMAND_LINE_SIZE, terminating NUL included. */
export const MAX_CMDLINE_BYTES = 2048;
const START_INFO_SIZE = 56;
const MODLIST_ENTRY_SIZE = 32;
const MEMMAP_ENTRY_SIZE = 24;

/** What the layout needs of guest memory (GuestMemory provides it). */
export interface LayoutMemory {
  write(gpa: number, bytes: Uint8Array): void;
  zero(gpa: number, len: number): void;
  isMapped(gfn: number): boolean;
}

export interface MemmapEntry {
  addr: number;
  size: number;
  type: number;
}

/** A hypervisor-owned region to populate and report with the given memory-map type. */
export interface ExtraRegion {
  gpa: number;
  size: number;
  type: number;
}

export interface GuestPhysPlan {
  memoryBytes: number;
  /** Guest RAM as the guest sees it (type 1 entries of the memory map). */
  ram: MemmapEntry[];
  specialGfn: number;
  extra: ExtraRegion[];
  /** The complete memory map, sorted by address. */
  memmap: MemmapEntry[];
  /** Everything to back with frames, sorted and merged. */
  populate: GfnRange[];
}

export interface SegmentState {
  selector: number;
  base: number;
  limit: number;
  /** SVM's packed VMCB attribute: access byte in bits 0-7, AVL/L/D/G in bits 8-11. */
  attrib: number;
}

/** Initial vCPU registers; values are plain numbers (all below 2^53). */
export interface VcpuState {
  rip: number;
  rsp: number;
  rflags: number;
  rax: number;
  rbx: number;
  rcx: number;
  rdx: number;
  rsi: number;
  rdi: number;
  rbp: number;
  cr0: number;
  cr2: number;
  cr3: number;
  cr4: number;
  /** Architecturally 0 (no long mode); SVME (bit 12) is the caller's to add in the VMCB. */
  efer: number;
  cs: SegmentState;
  ds: SegmentState;
  es: SegmentState;
  ss: SegmentState;
  fs: SegmentState;
  gs: SegmentState;
  tr: SegmentState;
  ldtr: SegmentState;
  gdtr: { base: number; limit: number };
  idtr: { base: number; limit: number };
  dr6: number;
  dr7: number;
  /** The power-on PAT value. */
  pat: number;
  cpl: number;
}

export interface PvhLoadInput {
  /** The kernel's ELF bytes. */
  kernel: Uint8Array;
  ramdisk?: Uint8Array | null;
  cmdline?: string;
  /** Guest-physical address of the ACPI RSDP, 0 for none. */
  rsdpPaddr?: number;
}

export interface PvhLayout {
  entry: number;
  /** [start, end) of the loaded kernel image. */
  kernelStart: number;
  kernelEnd: number;
  ramdisk: { gpa: number; size: number } | null;
  startInfoGpa: number;
  cmdlineGpa: number;
  modlistGpa: number;
  memmapGpa: number;
  /** End of the boot-information block. */
  bootInfoEnd: number;
  memmap: MemmapEntry[];
  xenstoreGfn: number;
  consoleGfn: number;
  vcpu: VcpuState;
}

/** Thrown when the guest does not fit or its image is unusable. */
export class PvhLayoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PvhLayoutError';
  }
}

const MIB = 1048576;

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** [a, b) minus every interval in cut, as sorted intervals. */
function subtract(a: number, b: number, cut: { start: number; end: number }[]): { start: number; end: number }[] {
  let parts = [{ start: a, end: b }];
  for (const c of cut) {
    const next: { start: number; end: number }[] = [];
    for (const p of parts) {
      if (c.end <= p.start || c.start >= p.end) next.push(p);
      else {
        if (c.start > p.start) next.push({ start: p.start, end: c.start });
        if (c.end < p.end) next.push({ start: c.end, end: p.end });
      }
    }
    parts = next;
  }
  return parts;
}

/** Plans the guest-physical map of a PVH domain with memoryMiB of RAM. */
export function planGuestPhysical(memoryMiB: number, opts: { extra?: ExtraRegion[] } = {}): GuestPhysPlan {
  if (!Number.isInteger(memoryMiB) || memoryMiB < 1 || memoryMiB > 1048576) {
    throw new PvhLayoutError(`memory must be a whole number of MiB between 1 and 1048576, got ${memoryMiB}`);
  }
  const memoryBytes = memoryMiB * MIB;
  const low = Math.min(memoryBytes, LOWMEM_END);
  const ramSpans = [{ start: 0, end: low }];
  if (memoryBytes > low) ramSpans.push({ start: FOUR_GIB, end: FOUR_GIB + memoryBytes - low });
  const special = { start: SPECIAL_PAGES_GFN * PAGE_SIZE, end: SPECIAL_PAGES_END_GFN * PAGE_SIZE };

  const extra = (opts.extra || []).slice().sort((x, y) => x.gpa - y.gpa);
  const owned = [special];
  for (const e of extra) {
    if (!Number.isInteger(e.gpa) || !Number.isInteger(e.size) || e.gpa <= 0 || e.size <= 0 || e.gpa % PAGE_SIZE || e.size % PAGE_SIZE) {
      throw new PvhLayoutError(`extra region ${hex(e.gpa)}+${hex(e.size)} must be non-empty, page-aligned and above 0`);
    }
    if (e.type === E820_RAM || !Number.isInteger(e.type) || e.type < 2 || e.type > 7) {
      throw new PvhLayoutError(`extra region ${hex(e.gpa)} has type ${e.type}; use 2 (reserved), 3 (ACPI), 4 (NVS) ... 7`);
    }
    const span = { start: e.gpa, end: e.gpa + e.size };
    for (const o of owned) {
      if (span.start < o.end && o.start < span.end) throw new PvhLayoutError(`extra region ${hex(e.gpa)}+${hex(e.size)} overlaps another hypervisor-owned region`);
    }
    owned.push(span);
  }

  const memmap: MemmapEntry[] = [];
  const ram: MemmapEntry[] = [];
  for (const r of ramSpans) {
    for (const p of subtract(r.start, r.end, owned)) {
      const entry = { addr: p.start, size: p.end - p.start, type: E820_RAM };
      ram.push(entry);
      memmap.push(entry);
    }
  }
  memmap.push({ addr: special.start, size: special.end - special.start, type: E820_RESERVED });
  for (const e of extra) memmap.push({ addr: e.gpa, size: e.size, type: e.type });
  memmap.sort((x, y) => x.addr - y.addr);

  // Populate RAM spans, the special pages and extra regions, merged into disjoint gfn runs.
  const spans = ramSpans.concat(owned).sort((x, y) => x.start - y.start);
  const populate: GfnRange[] = [];
  for (const s of spans) {
    const gfn = s.start / PAGE_SIZE;
    const end = s.end / PAGE_SIZE;
    const last = populate.length ? populate[populate.length - 1] : null;
    if (last && gfn <= last.gfn + last.count) last.count = Math.max(last.count, end - last.gfn);
    else populate.push({ gfn, count: end - gfn });
  }
  return { memoryBytes, ram, specialGfn: SPECIAL_PAGES_GFN, extra, memmap, populate };
}

/** The register state of pvh.pandoc: 32-bit flat protected mode, paging off, EBX = start info. */
export function pvhInitialVcpu(entry: number, startInfoGpa: number): VcpuState {
  // Attributes as Xen's vcpu_hvm() sets them: G=1 and D/B=1 (0xC00) make the segments 4 GiB
  // and 32-bit; 0x9B is present execute/read accessed code, 0x93 present read/write accessed
  // data, 0x8B a present busy 32-bit TSS (VMRUN wants TR busy), 0x82 a present LDT.
  const code = { selector: 0x08, base: 0, limit: 0xffffffff, attrib: 0xc9b };
  const data = (): SegmentState => ({ selector: 0x10, base: 0, limit: 0xffffffff, attrib: 0xc93 });
  return {
    rip: entry,
    rsp: 0,
    // Bit 1 is reserved-as-one; IF, TF and VM are clear as the ABI requires.
    rflags: 0x2,
    rax: 0,
    rbx: startInfoGpa,
    rcx: 0,
    rdx: 0,
    rsi: 0,
    rdi: 0,
    rbp: 0,
    // PE|ET: protected mode, paging off. ET is hard-wired to 1 on every CPU since the 486.
    cr0: 0x11,
    cr2: 0,
    cr3: 0,
    cr4: 0,
    efer: 0,
    cs: code,
    ds: data(),
    es: data(),
    ss: data(),
    fs: data(),
    gs: data(),
    tr: { selector: 0x18, base: 0, limit: 0x67, attrib: 0x08b },
    ldtr: { selector: 0, base: 0, limit: 0, attrib: 0x082 },
    gdtr: { base: 0, limit: 0 },
    idtr: { base: 0, limit: 0 },
    // Architectural reset values of DR6 and DR7.
    dr6: 0xffff0ff0,
    dr7: 0x400,
    pat: 0x0007040600070406,
    cpl: 0,
  };
}


/** Little-endian writer into a byte block. */
class Block {
  readonly bytes: Uint8Array;
  private readonly view: DataView;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }

  u32(off: number, v: number): void {
    this.view.setUint32(off, v, true);
  }

  u64(off: number, v: number): void {
    this.view.setUint32(off, v % 4294967296, true);
    this.view.setUint32(off + 4, Math.floor(v / 4294967296), true);
  }
}

/** Tracks used guest-physical ranges and finds room for new items in RAM below 4 GiB. */
class Placer {
  private readonly used: { start: number; end: number }[] = [];

  constructor(private readonly plan: GuestPhysPlan) {}

  claim(start: number, end: number): void {
    this.used.push({ start, end });
  }

  /** Page-aligned room for size bytes: first at preferred, else the lowest fit above 1 MiB. */
  place(size: number, preferred: number, what: string): number {
    const candidates = [alignUp(preferred, PAGE_SIZE), MIB];
    for (const u of this.used) candidates.push(alignUp(u.end, PAGE_SIZE));
    for (const r of this.plan.ram) if (r.addr > MIB) candidates.push(r.addr);
    const rest = candidates.slice(1).sort((a, b) => a - b);
    for (const at of [candidates[0]].concat(rest)) {
      if (this.fits(at, size)) {
        this.claim(at, at + size);
        return at;
      }
    }
    throw new PvhLayoutError(`no room for the ${what} (${size} bytes) in guest RAM below 4 GiB: give the guest more memory`);
  }

  private fits(at: number, size: number): boolean {
    if (at <= 0 || at + size > FOUR_GIB) return false;
    const inRam = this.plan.ram.some((r) => at >= r.addr && at + size <= r.addr + r.size);
    return inRam && !this.used.some((u) => at < u.end && u.start < at + size);
  }
}

/** Loads a PVH kernel (and ramdisk) into guest memory and writes hvm_start_info; returns the layout. */
export function loadPvhGuest(mem: LayoutMemory, plan: GuestPhysPlan, input: PvhLoadInput): PvhLayout {
  if (!(input.kernel instanceof Uint8Array)) throw new PvhLayoutError('kernel must be the bytes of an ELF image');
  const image: ElfImage = parseElf(input.kernel);
  const entry = phys32Entry(image);
  const segments = loadSegments(image);
  if (segments.length === 0) throw new PvhLayoutError('the kernel has no PT_LOAD segment to load');

  const placer = new Placer(plan);
  let kernelStart = Infinity;
  let kernelEnd = 0;
  let entryInside = false;
  const claimed: { start: number; end: number }[] = [];
  for (const s of segments) {
    const start = s.paddr;
    const end = s.paddr + s.memsz;
    const what = `kernel segment ${hex(start)}-${hex(end)}`;
    if (!plan.ram.some((r) => start >= r.addr && end <= r.addr + r.size)) {
      const owned = plan.memmap.some((m) => m.type !== E820_RAM && start < m.addr + m.size && m.addr < end);
      throw new PvhLayoutError(`${what} ${owned ? 'overlaps hypervisor-owned pages' : 'lies outside guest RAM'} (guest has ${plan.memoryBytes / MIB} MiB)`);
    }
    if (claimed.some((c) => start < c.end && c.start < end)) throw new PvhLayoutError(`${what} overlaps another kernel segment`);
    claimed.push({ start, end });
    placer.claim(start, end);
    kernelStart = Math.min(kernelStart, start);
    kernelEnd = Math.max(kernelEnd, end);
    if (entry >= start && entry < end) entryInside = true;
  }
  if (!entryInside) throw new PvhLayoutError(`PVH entry ${hex(entry)} is not inside any loaded segment`);
  for (const s of segments) {
    mem.write(s.paddr, input.kernel.subarray(s.offset, s.offset + s.filesz));
    mem.zero(s.paddr + s.filesz, s.memsz - s.filesz);
  }

  let ramdisk: { gpa: number; size: number } | null = null;
  let next = kernelEnd;
  if (input.ramdisk && input.ramdisk.length > 0) {
    const gpa = placer.place(input.ramdisk.length, next, 'ramdisk');
    mem.write(gpa, input.ramdisk);
    ramdisk = { gpa, size: input.ramdisk.length };
    next = gpa + input.ramdisk.length;
  }

  const cmd = encodeUtf8(input.cmdline || '');
  if (cmd.indexOf(0) >= 0) throw new PvhLayoutError('the command line contains a NUL character');
  if (cmd.length >= MAX_CMDLINE_BYTES) {
    throw new PvhLayoutError(`the command line is ${cmd.length} bytes; Linux takes at most ${MAX_CMDLINE_BYTES - 1}`);
  }
  const rsdp = input.rsdpPaddr || 0;
  if (!Number.isInteger(rsdp) || rsdp < 0 || rsdp >= FOUR_GIB) throw new PvhLayoutError(`bad RSDP address ${rsdp}`);

  // One block, as Xen lays it out: start_info, command line, modlist, memory map.
  const nmods = ramdisk ? 1 : 0;
  const cmdOff = START_INFO_SIZE;
  const modOff = cmdOff + (cmd.length ? alignUp(cmd.length + 1, 8) : 0);
  const mapOff = modOff + nmods * MODLIST_ENTRY_SIZE;
  const size = mapOff + plan.memmap.length * MEMMAP_ENTRY_SIZE;
  const base = placer.place(size, next, 'boot information');
  const b = new Block(size);
  b.u32(0, HVM_START_MAGIC);
  b.u32(4, 1);
  b.u32(8, 0);
  b.u32(12, nmods);
  b.u64(16, nmods ? base + modOff : 0);
  b.u64(24, cmd.length ? base + cmdOff : 0);
  b.u64(32, rsdp);
  b.u64(40, base + mapOff);
  b.u32(48, plan.memmap.length);
  b.u32(52, 0);
  b.bytes.set(cmd, cmdOff);
  if (ramdisk) {
    b.u64(modOff, ramdisk.gpa);
    b.u64(modOff + 8, ramdisk.size);
  }
  plan.memmap.forEach((m, i) => {
    b.u64(mapOff + i * MEMMAP_ENTRY_SIZE, m.addr);
    b.u64(mapOff + i * MEMMAP_ENTRY_SIZE + 8, m.size);
    b.u32(mapOff + i * MEMMAP_ENTRY_SIZE + 16, m.type);
  });
  mem.write(base, b.bytes);

  // The console and xenstore rings must start zeroed (a zeroed xenstore page reads as connected).
  if (!mem.isMapped(plan.specialGfn)) throw new PvhLayoutError('the special pages are not populated: create guest memory from plan.populate');
  mem.zero(plan.specialGfn * PAGE_SIZE, SPECIAL_PAGES_COUNT * PAGE_SIZE);

  return {
    entry,
    kernelStart,
    kernelEnd,
    ramdisk,
    startInfoGpa: base,
    cmdlineGpa: cmd.length ? base + cmdOff : 0,
    modlistGpa: nmods ? base + modOff : 0,
    memmapGpa: base + mapOff,
    bootInfoEnd: base + size,
    memmap: plan.memmap.map((m) => ({ addr: m.addr, size: m.size, type: m.type })),
    xenstoreGfn: plan.specialGfn + SPECIAL_PAGE.xenstore,
    consoleGfn: plan.specialGfn + SPECIAL_PAGE.console,
    vcpu: pvhInitialVcpu(entry, base),
  };
}
