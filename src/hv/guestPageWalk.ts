// Guest-linear to guest-physical translation through the guest's own page tables, for hypercall pointers.
import { hex } from './hex';
//
// Public API:
//   pagingMode(regs)                         -> 'off' | '32bit' | 'pae' | 'long' | 'la57'.
//   translateLinear(mem, regs, gla, access?) -> { ok: true, gpa, pageSize } or
//                                               { ok: false, fault }: one address.
//   copyFromGuest(mem, regs, gla, len, access?) -> Uint8Array   (throws GuestFaultError)
//   copyToGuest(mem, regs, gla, bytes, access?)                 (throws GuestFaultError)
//   linearFromHalves(lo, hi)                 -> a 64-bit register value as the sign-extended
//                                               number this module takes (exact for canonical
//                                               48-bit addresses), or null if non-canonical.
//   GuestFaultError.errno is -14 (EFAULT), what a hypercall returns for it.
//
// Modes: paging off (linear = physical, 32-bit), 32-bit 2-level (4 MiB pages with CR4.PSE,
// PSE-36 high bits), PAE 3-level (2 MiB pages), long mode 4-level (1 GiB / 2 MiB pages).
// 5-level paging (CR4.LA57) is refused: its linear addresses do not fit a number exactly,
// and zazen does not offer LA57 in CPUID. Checks: present, write (RW at every level when
// CR0.WP is set or the access is a user access), user (US at every level), reserved bits
// (NX without EFER.NXE, PS in a PML4E, PAE PDPTE reserved bits, large-page address bits).
// SMEP/SMAP and protection keys are not applied: hypercall copies act for the guest kernel.
// Like the CPU (and Xen's guest walker), a successful walk sets the accessed bits of the
// entries it used and the dirty bit of the leaf on a write. Multi-page ranges are walked
// page by page, and every page is translated before any byte moves, so a fault copies nothing.

export interface PagingRegs {
  cr0: number;
  cr3: number;
  cr4: number;
  efer: number;
}

/** What the walker needs of guest-physical memory (GuestMemory provides it). */
export interface WalkMemory {
  readU32(gpa: number): number;
  writeU32(gpa: number, value: number): void;
  read(gpa: number, len: number): Uint8Array;
  write(gpa: number, bytes: Uint8Array): void;
  /** Optional: the words of the page holding gpa, or null; lets long-mode walks skip a call per entry. */
  pageAt?(gpa: number): { words: Uint32Array } | null;
}

export interface Access {
  write?: boolean;
  user?: boolean;
  /** Set accessed/dirty bits on success (default true). */
  setAccessedDirty?: boolean;
}

export type FaultKind = 'not-present' | 'protection' | 'reserved-bit' | 'non-canonical' | 'bad-gpa' | 'out-of-range' | 'unsupported';

export interface WalkFault {
  kind: FaultKind;
  gla: number;
  /** Paging level that faulted (4 = PML4 ... 1 = PT; 0 when no walk happened). */
  level: number;
  /** x86 #PF error code: P (bit 0), W (1), U (2), RSVD (3). */
  errorCode: number;
  message: string;
}

export type WalkResult = { ok: true; gpa: number; pageSize: number } | { ok: false; fault: WalkFault };

/** A hypercall pointer the guest cannot back: the hypercall returns errno (-EFAULT). */
export class GuestFaultError extends Error {
  readonly errno = -14;
  constructor(readonly fault: WalkFault) {
    super(fault.message);
    this.name = 'GuestFaultError';
  }
}

const PAGE = 4096;
const TWO32 = 4294967296;
const TWO47 = 2 ** 47;
const TWO48 = 2 ** 48;
/** Longest single copy; a guest-supplied length beyond it is refused rather than allocated. */
export const MAX_COPY_BYTES = 64 * 1048576;

const CR0_PG = 0x80000000;
const CR0_WP = 0x10000;
const CR4_PSE = 0x10;
const CR4_PAE = 0x20;
const CR4_LA57 = 0x1000;
const EFER_LME = 0x100;
const EFER_LMA = 0x400;
const EFER_NXE = 0x800;
const P = 1;
const RW = 2;
const US = 4;
const A = 0x20;
const D = 0x40;
const PS = 0x80;

export type PagingMode = 'off' | '32bit' | 'pae' | 'long' | 'la57';

/** The guest's paging mode from CR0, CR4 and EFER. */
export function pagingMode(regs: PagingRegs): PagingMode {
  if (!(regs.cr0 & CR0_PG)) return 'off';
  if (regs.efer & EFER_LMA || regs.efer & EFER_LME) return regs.cr4 & CR4_LA57 ? 'la57' : 'long';
  return regs.cr4 & CR4_PAE ? 'pae' : '32bit';
}

/** Turns a 64-bit register (two u32 halves) into the sign-extended number used here; null if non-canonical. */
export function linearFromHalves(lo: number, hi: number): number | null {
  lo = lo >>> 0;
  hi = hi >>> 0;
  const top = hi >>> 15; // bits 47..63 must all be equal
  if (top === 0) return hi * TWO32 + lo;
  if (top === 0x1ffff) return (hi - TWO32) * TWO32 + lo;
  return null;
}

function fault(kind: FaultKind, gla: number, level: number, access: Access, message: string): WalkResult {
  let code = kind === 'protection' || kind === 'reserved-bit' ? 1 : 0;
  if (access.write) code |= 2;
  if (access.user) code |= 4;
  if (kind === 'reserved-bit') code |= 8;
  return { ok: false, fault: { kind, gla, level, errorCode: code, message: `${message} (linear address ${hex(gla)})` } };
}

/** One entry read during a walk: where it lives and its two halves (hi is 0 for 32-bit entries). */
interface Step {
  gpa: number;
  lo: number;
  hi: number;
  noAccessedBit: boolean;
}

/** Where the fast walk found each level's entry (PML4 first), to set accessed bits on success. */
const fastTables: (Uint32Array | null)[] = [null, null, null, null];
const fastIndex = new Int32Array(4);
let fastPageSize = 0;

/**
 * The long-mode walk of an address whose entries are all present and allow the access:
 * the guest-physical address, or -1 for anything else (a fault, a reserved bit, memory
 * without pageAt), which the general walk then handles and explains. It makes no objects
 * and one call per level: hypercalls walk a guest pointer or two each, and in QuickJS every
 * call and allocation costs thousands of instructions.
 */
function walkLongFast(mem: WalkMemory, regs: PagingRegs, gla: number, access: Access): number {
  if (!mem.pageAt || !(gla >= -TWO47 && gla < TWO47) || !Number.isInteger(gla)) return -1;
  const u = gla < 0 ? gla + TWO48 : gla;
  const write = access.write === true;
  const user = access.user === true;
  const wp = (regs.cr0 & CR0_WP) !== 0;
  const nxe = (regs.efer & EFER_NXE) !== 0;
  let table = regs.cr3 - (regs.cr3 % PAGE);
  let depth = 0;
  let gpa = -1;
  for (let level = 4; level >= 1; level--) {
    const page = mem.pageAt(table);
    if (!page) return -1;
    const size = 2 ** (12 + 9 * (level - 1));
    const i = 2 * (Math.floor(u / size) % 512);
    const lo = page.words[i];
    const hi = page.words[i + 1];
    if (!(lo & P) || (!nxe && hi & 0x80000000)) return -1;
    if ((user && !(lo & US)) || (write && !(lo & RW) && (user || wp))) return -1;
    fastTables[depth] = page.words;
    fastIndex[depth++] = i;
    const base = (hi & 0xfffff) * TWO32 + (lo >>> 12) * PAGE;
    if (level === 1) {
      gpa = base + (u % PAGE);
      fastPageSize = PAGE;
      break;
    }
    if (lo & PS) {
      // 1 GiB or 2 MiB page; bit 12 is PAT, and address bits below the page size are reserved.
      const low = base % size;
      if (level === 4 || (low !== 0 && low !== PAGE)) return -1;
      gpa = base - low + (u % size);
      fastPageSize = size;
      break;
    }
    table = base;
  }
  if (gpa < 0) return -1;
  if (access.setAccessedDirty !== false) {
    for (let k = 0; k < depth; k++) {
      const words = fastTables[k] as Uint32Array;
      const lo = words[fastIndex[k]];
      const want = (lo | A | (k === depth - 1 && write ? D : 0)) >>> 0;
      if (want !== lo) words[fastIndex[k]] = want;
    }
  }
  for (let k = 0; k < depth; k++) fastTables[k] = null;
  return gpa;
}

/** Translates one guest-linear address, checking the access's rights at every level. */
export function translateLinear(mem: WalkMemory, regs: PagingRegs, gla: number, access: Access = {}): WalkResult {
  const mode = pagingMode(regs);
  if (mode === 'long') {
    const gpa = walkLongFast(mem, regs, gla, access);
    if (gpa >= 0) return { ok: true, gpa, pageSize: fastPageSize };
  }
  if (!Number.isInteger(gla)) return fault('out-of-range', gla, 0, access, 'linear address is not an integer');
  if (mode === 'la57') return fault('unsupported', gla, 0, access, '5-level paging (CR4.LA57) is not supported');
  if (mode === 'long') {
    if (gla < -TWO47 || gla >= TWO47) return fault('non-canonical', gla, 0, access, 'non-canonical address');
  } else if (gla < 0 || gla >= TWO32) {
    return fault('out-of-range', gla, 0, access, 'address beyond 4 GiB outside long mode');
  }
  if (mode === 'off') return { ok: true, gpa: gla, pageSize: PAGE };

  const steps: Step[] = [];
  const read = (gpa: number, wide: boolean, level: number, noAccessedBit = false): Step | WalkResult => {
    try {
      const lo = mem.readU32(gpa);
      const hi = wide ? mem.readU32(gpa + 4) : 0;
      const step = { gpa, lo, hi, noAccessedBit };
      steps.push(step);
      return step;
    } catch (e) {
      return fault('bad-gpa', gla, level, access, `level-${level} page-table entry at guest-physical ${hex(gpa)} is not in guest memory`);
    }
  };
  const isFault = (x: Step | WalkResult): x is WalkResult => (x as WalkResult).ok === false;
  const nxReserved = !(regs.efer & EFER_NXE);

  let result: { gpa: number; pageSize: number };
  if (mode === '32bit') {
    const pde = read(((regs.cr3 & 0xfffff000) >>> 0) + (gla >>> 22) * 4, false, 2);
    if (isFault(pde)) return pde;
    if (!(pde.lo & P)) return fault('not-present', gla, 2, access, 'page directory entry not present');
    let rights = checkRights(pde, access, regs);
    if (rights) return fault('protection', gla, 2, access, rights);
    if (pde.lo & PS && regs.cr4 & CR4_PSE) {
      // PSE-36: PDE bits 13-20 hold physical address bits 32-39 of a 4 MiB page; bit 21 is reserved.
      if (pde.lo & 0x200000) return fault('reserved-bit', gla, 2, access, 'reserved bit 21 set in a 4 MiB page entry');
      const base = ((pde.lo & 0xffc00000) >>> 0) + ((pde.lo >>> 13) & 0xff) * TWO32;
      result = { gpa: base + (gla % 0x400000), pageSize: 0x400000 };
    } else {
      const pte = read(((pde.lo & 0xfffff000) >>> 0) + ((gla >>> 12) & 0x3ff) * 4, false, 1);
      if (isFault(pte)) return pte;
      if (!(pte.lo & P)) return fault('not-present', gla, 1, access, 'page table entry not present');
      rights = checkRights(pte, access, regs);
      if (rights) return fault('protection', gla, 1, access, rights);
      result = { gpa: ((pte.lo & 0xfffff000) >>> 0) + (gla % PAGE), pageSize: PAGE };
    }
  } else {
    const u = gla < 0 ? gla + TWO48 : gla;
    let level: number;
    let table: number;
    if (mode === 'pae') {
      const pdpte = read(((regs.cr3 & 0xffffffe0) >>> 0) + Math.floor(u / 2 ** 30) * 8, true, 3, true);
      if (isFault(pdpte)) return pdpte;
      if (!(pdpte.lo & P)) return fault('not-present', gla, 3, access, 'PDPT entry not present');
      // In PAE mode PDPTEs carry no rights: bits 1-2 and 5-8 and NX are reserved.
      if (pdpte.lo & 0x1e6 || pdpte.hi & 0x80000000) return fault('reserved-bit', gla, 3, access, 'reserved bit set in a PAE PDPT entry');
      table = entryAddr(pdpte);
      level = 2;
    } else {
      table = regs.cr3 - (regs.cr3 % PAGE);
      level = 4;
    }
    for (;;) {
      const shift = 12 + 9 * (level - 1);
      const e = read(table + (Math.floor(u / 2 ** shift) % 512) * 8, true, level);
      if (isFault(e)) return e;
      if (!(e.lo & P)) return fault('not-present', gla, level, access, `level-${level} entry not present`);
      if (nxReserved && e.hi & 0x80000000) return fault('reserved-bit', gla, level, access, 'NX bit set while EFER.NXE is clear');
      if (level === 4 && e.lo & PS) return fault('reserved-bit', gla, 4, access, 'PS bit set in a PML4 entry');
      const rights = checkRights(e, access, regs);
      if (rights) return fault('protection', gla, level, access, rights);
      if (level === 1) {
        result = { gpa: entryAddr(e) + (u % PAGE), pageSize: PAGE };
        break;
      }
      if (e.lo & PS && (level === 2 || mode === 'long')) {
        const size = 2 ** shift;
        const base = entryAddr(e);
        // In a large-page entry bit 12 is PAT; the address bits above it, below the page size, are reserved.
        const low = base % size;
        if (low !== 0 && low !== PAGE) return fault('reserved-bit', gla, level, access, 'reserved address bits set in a large-page entry');
        result = { gpa: base - low + (u % size), pageSize: size };
        break;
      }
      table = entryAddr(e);
      level--;
    }
  }
  if (access.setAccessedDirty !== false) markAccessed(mem, steps, !!access.write);
  return { ok: true, gpa: result.gpa, pageSize: result.pageSize };
}

/** Bits 12-51 of a 64-bit entry (or 12-31 of a 32-bit one). */
function entryAddr(s: Step): number {
  return (s.hi & 0xfffff) * TWO32 + (s.lo >>> 12) * PAGE;
}

/** Returns why the entry forbids the access, or '' when it allows it. */
function checkRights(s: Step, access: Access, regs: PagingRegs): string {
  if (s.noAccessedBit) return '';
  if (access.user && !(s.lo & US)) return 'user access to a supervisor page';
  if (access.write && !(s.lo & RW) && (access.user || regs.cr0 & CR0_WP)) return 'write to a read-only page';
  return '';
}

function markAccessed(mem: WalkMemory, steps: Step[], write: boolean): void {
  steps.forEach((s, i) => {
    const leaf = i === steps.length - 1;
    let lo = s.lo;
    if (!s.noAccessedBit) lo |= A;
    if (leaf && write) lo |= D;
    if ((lo >>> 0) !== (s.lo >>> 0)) mem.writeU32(s.gpa, lo >>> 0);
  });
}

/** The default accesses of copies (kept as constants so the one-page paths can recognise them). */
const READ: Access = Object.freeze({ write: false });
const WRITE: Access = Object.freeze({ write: true });

/** Translates every page of [gla, gla+len) first; throws GuestFaultError on the first fault. */
function pieces(mem: WalkMemory, regs: PagingRegs, gla: number, len: number, access: Access): { gpa: number; n: number }[] {
  if (!Number.isInteger(len) || len < 0 || len > MAX_COPY_BYTES) {
    throw new GuestFaultError({ kind: 'out-of-range', gla, level: 0, errorCode: 0, message: `copy of ${len} bytes refused (at most ${MAX_COPY_BYTES})` });
  }
  const out: { gpa: number; n: number }[] = [];
  let done = 0;
  while (done < len) {
    const at = gla + done;
    const off = ((at % PAGE) + PAGE) % PAGE;
    const n = Math.min(PAGE - off, len - done);
    const r = translateLinear(mem, regs, at, access);
    if (!r.ok) throw new GuestFaultError(r.fault);
    out.push({ gpa: r.gpa, n });
    done += n;
  }
  return out;
}

/** Copies len bytes from guest-linear gla; throws GuestFaultError (EFAULT) if any page fails. */
export function copyFromGuest(mem: WalkMemory, regs: PagingRegs, gla: number, len: number, access: Access = READ): Uint8Array {
  // Within one page (nearly every hypercall argument): one walk, one copy.
  const off = ((gla % PAGE) + PAGE) % PAGE;
  if (access === READ && Number.isInteger(len) && len > 0 && off + len <= PAGE) {
    const r = translateLinear(mem, regs, gla, READ);
    if (!r.ok) throw new GuestFaultError(r.fault);
    return readChecked(mem, r.gpa, len, gla);
  }
  const parts = pieces(mem, regs, gla, len, { ...access, write: false });
  const out = new Uint8Array(len);
  let done = 0;
  for (const p of parts) {
    out.set(readChecked(mem, p.gpa, p.n, gla + done), done);
    done += p.n;
  }
  return out;
}

/** Copies bytes to guest-linear gla; throws GuestFaultError (EFAULT) and writes nothing if any page fails. */
export function copyToGuest(mem: WalkMemory, regs: PagingRegs, gla: number, bytes: Uint8Array, access: Access = WRITE): void {
  const off = ((gla % PAGE) + PAGE) % PAGE;
  if (access === WRITE && bytes.length > 0 && off + bytes.length <= PAGE) {
    const r = translateLinear(mem, regs, gla, WRITE);
    if (!r.ok) throw new GuestFaultError(r.fault);
    try {
      mem.write(r.gpa, bytes);
    } catch (e) {
      throw badData(gla, r.gpa);
    }
    return;
  }
  const parts = pieces(mem, regs, gla, bytes.length, { ...access, write: true });
  let done = 0;
  for (const p of parts) {
    try {
      mem.write(p.gpa, bytes.subarray(done, done + p.n));
    } catch (e) {
      throw badData(gla + done, p.gpa);
    }
    done += p.n;
  }
}

function readChecked(mem: WalkMemory, gpa: number, n: number, at: number): Uint8Array {
  try {
    return mem.read(gpa, n);
  } catch (e) {
    throw badData(at, gpa);
  }
}

function badData(gla: number, gpa: number): GuestFaultError {
  return new GuestFaultError({ kind: 'bad-gpa', gla, level: 0, errorCode: 0, message: `guest-physical ${hex(gpa)} is not in guest memory (linear address ${hex(gla)})` });
}
