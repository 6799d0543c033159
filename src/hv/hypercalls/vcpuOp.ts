// vcpu_op (hypercall 24): secondary vCPUs up and down (initialise, up, down, is_up) as Xen does for PVH; areas and timers in vcpuTimeOp.ts.
import { EEXIST, EFAULT, EINVAL, ENOENT } from '../errno';
import type { Vcpu } from '../vcpu';
import type { HypercallCall } from './call';
import { vcpuTimeOp } from './vcpuTimeOp';

export const HYPERVISOR_VCPU_OP = 24;
export const VCPUOP_initialise = 0;
export const VCPUOP_up = 1;
export const VCPUOP_down = 2;
export const VCPUOP_is_up = 3;

/** struct vcpu_hvm_context (public/hvm/hvm_vcpu.h): mode and padding, then the register union at 8. */
export const VCPU_HVM_MODE_32B = 0;
export const VCPU_HVM_MODE_64B = 1;
/** sizeof(struct vcpu_hvm_context): Xen copies the whole struct whatever the mode (the 32-bit member is the larger). */
export const HVM_CONTEXT_SIZE = 128;
/**
 * Only 32 vCPUs have a vcpu_info slot in the shared-info page; above that Xen wants
 * VCPUOP_register_vcpu_info first, which zazen does not track for initialise, so it is -EINVAL there.
 */
export const LEGACY_MAX_VCPUS = 32;

/** Byte offsets of struct vcpu_hvm_x86_64 fields in the context (union at 8). */
const X64 = {
  gpr: 8, // rax rcx rdx rbx rsp rbp rsi rdi
  rip: 72, rflags: 80, cr0: 88, cr3: 96, cr4: 104, efer: 112,
};
/**
 * Of struct vcpu_hvm_x86_32: eax..edi, eip, eflags, cr0, cr3, cr4, u32 pad1, u64 efer, then
 * the bases, limits and u16 attributes of cs ds ss es tr, and u16 pad2[3].
 */
const X32 = {
  gpr: 8, eip: 40, eflags: 44, cr0: 48, cr3: 52, cr4: 56, pad1: 60, efer: 64,
  base: 72, limit: 92, ar: 112, pad2: 122,
};
/** Segment order of the 32-bit struct's base/limit/ar arrays. */
const SEGS32 = ['cs', 'ds', 'ss', 'es', 'tr'] as const;
/** Order of the 8 GPRs in both structs, by name. */
const GPRS = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi'] as const;

const CR0_PE = 1;
const CR0_NW = 1 << 29;
const CR0_CD = 1 << 30;
const CR0_PG = 0x80000000;
const CR4_PAE = 0x20;
/**
 * CR4 bits a guest may set here: VME PVI TSD DE PSE PAE MCE PGE PCE OSFXSR OSXMMEXCPT
 * FSGSBASE OSXSAVE SMEP SMAP. Xen derives the set from the domain's CPUID policy; zazen's
 * policy offers at most these, and anything else (VMXE, LA57, PKE...) would make VMRUN fail.
 */
const CR4_VALID = 0x1 | 0x2 | 0x4 | 0x8 | 0x10 | 0x20 | 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x10000 | 0x40000 | 0x100000 | 0x200000;
const EFER_SCE = 0x1;
const EFER_LME = 0x100;
const EFER_LMA = 0x400;
const EFER_NXE = 0x800;
/** EFER bits a guest may ask for; SVME is the hypervisor's own (VMRUN needs it set, the shim hides it). */
const EFER_VALID = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
const EFER_SVME = 0x1000;
/** X86_EFLAGS_ALL: the architectural flags; bit 1 always reads one (X86_EFLAGS_MBS). */
const EFLAGS_ALL = 0x3f7fd5;
const EFLAGS_MBS = 0x2;
/** Guest-physical addresses stop at 52 bits (the architectural MAXPHYADDR limit). */
const PHYS_LIMIT = 2 ** 52;
const TWO32 = 4294967296;

/** A register state to load, or the errno that refuses it. */
interface Loaded {
  rip: bigint;
  rflags: number;
  cr0: number;
  cr3: number;
  cr4: number;
  efer: number;
  segs: { name: 'cs' | 'ds' | 'ss' | 'es' | 'tr'; attr: number; limit: number; base: number }[];
}

/** A u64 field as a number, or null when it is 2^53 or more (never a valid value here). */
function u64(dv: DataView, off: number): number | null {
  const hi = dv.getUint32(off + 4, true);
  return hi >= 0x200000 ? null : hi * TWO32 + dv.getUint32(off, true);
}

/** Xen's check_segment for the 32-bit mode's cs/ds/ss/es/tr: returns the attr with accessed/busy set, or null. */
function checkSegment(name: string, ar: number): number | null {
  if (ar & 0xf000) return null; // attribute bits 12-15 must be zero
  if (ar === 0) return name === 'ds' || name === 'es' ? 0 : null; // only DS and ES may be null
  const present = (ar & 0x80) !== 0;
  const s = (ar & 0x10) !== 0;
  // Present segments get the accessed bit (busy for TR) as Xen sets them.
  const a = present ? ar | (name === 'tr' ? 2 : 1) : ar;
  const type = a & 0xf;
  if (name === 'tr') {
    if (s || type !== 0xb) return null; // a busy 32-bit TSS
  } else if (!s) return null; // system segment for code/data
  if (!present) return null;
  if (name === 'cs' && !(type & 0x8)) return null;
  if (name === 'ss' && ((type & 0x8) || !(type & 0x2))) return null;
  if ((name === 'ds' || name === 'es') && (type & 0x8) && !(type & 0x2)) return null;
  return a;
}

/** Decodes VCPU_HVM_MODE_64B (Xen's arch_set_info_hvm_guest); flat long-mode segments. */
function decode64(dv: DataView): Loaded | null {
  const rip = dv.getBigUint64(X64.rip, true);
  // Canonical: bits 63..47 all equal.
  const top = rip >> 47n;
  if (top !== 0n && top !== 0x1ffffn) return null;
  const cr0 = u64(dv, X64.cr0);
  const cr3 = u64(dv, X64.cr3);
  const cr4 = u64(dv, X64.cr4);
  const efer = u64(dv, X64.efer);
  if (cr0 === null || cr3 === null || cr4 === null || efer === null) return null;
  if (!(cr0 & CR0_PG) || !(cr4 & CR4_PAE) || !(efer & EFER_LME)) return null;
  return {
    rip, rflags: Number(dv.getBigUint64(X64.rflags, true) & BigInt(EFLAGS_ALL)) | EFLAGS_MBS,
    cr0, cr3, cr4, efer,
    segs: [
      { name: 'cs', attr: 0xa9b, limit: 0xffffffff, base: 0 },
      { name: 'ds', attr: 0xc93, limit: 0xffffffff, base: 0 },
      { name: 'ss', attr: 0xc93, limit: 0xffffffff, base: 0 },
      { name: 'es', attr: 0xc93, limit: 0xffffffff, base: 0 },
      { name: 'tr', attr: 0x8b, limit: 0x67, base: 0 },
    ],
  };
}

/** Decodes VCPU_HVM_MODE_32B: segments as given (checked as Xen does), 32-bit registers. */
function decode32(dv: DataView): Loaded | null {
  if (dv.getUint32(X32.pad1, true) !== 0) return null;
  for (let i = 0; i < 3; i++) if (dv.getUint16(X32.pad2 + 2 * i, true) !== 0) return null;
  const segs: Loaded['segs'] = [];
  for (let i = 0; i < SEGS32.length; i++) {
    const attr = checkSegment(SEGS32[i], dv.getUint16(X32.ar + 2 * i, true));
    if (attr === null) return null;
    segs.push({ name: SEGS32[i], attr, limit: dv.getUint32(X32.limit + 4 * i, true), base: dv.getUint32(X32.base + 4 * i, true) });
  }
  const [cs, ds, ss, es] = segs;
  const dpl = (a: number): number => (a >> 5) & 3;
  if (dv.getUint32(X32.eip, true) > cs.limit) return null;
  if (dpl(ss.attr) !== dpl(cs.attr)) return null;
  if ((ds.attr & 0x80) && dpl(ds.attr) > dpl(cs.attr)) return null;
  if ((es.attr & 0x80) && dpl(es.attr) > dpl(cs.attr)) return null;
  const efer = u64(dv, X32.efer);
  if (efer === null) return null;
  if ((efer & EFER_LMA) && !(efer & EFER_LME)) return null;
  return {
    rip: BigInt(dv.getUint32(X32.eip, true)), rflags: (dv.getUint32(X32.eflags, true) & EFLAGS_ALL) | EFLAGS_MBS,
    cr0: dv.getUint32(X32.cr0, true), cr3: dv.getUint32(X32.cr3, true), cr4: dv.getUint32(X32.cr4, true), efer, segs,
  };
}

/** The checks both modes share (Xen: CR4 against the valid bits, hvm_efer_valid), plus what VMRUN would refuse. */
function commonValid(s: Loaded): boolean {
  // Every EFER and CR4 bit defined so far is below bit 32 (and JS bit operations see only 32 bits).
  if (s.efer >= TWO32 || s.cr4 >= TWO32) return false;
  const efer = s.efer & EFER_LME ? s.efer | EFER_LMA : s.efer;
  if (efer & ~EFER_VALID) return false;
  if (s.cr4 & ~CR4_VALID) return false;
  // CR0 is 32 bits wide; PG needs PE; NW without CD is an invalid combination (VMRUN fails).
  if (s.cr0 >= TWO32 || ((s.cr0 & CR0_PG) && !(s.cr0 & CR0_PE)) || ((s.cr0 & CR0_NW) && !(s.cr0 & CR0_CD))) return false;
  // Long mode active needs paging and PAE, or the vCPU would not enter.
  if ((efer & EFER_LMA) && (s.cr0 & CR0_PG) && !(s.cr4 & CR4_PAE)) return false;
  if (s.cr3 >= PHYS_LIMIT) return false;
  return true;
}

/** Reads and checks a vcpu_hvm_context from guest memory and loads it into v; returns 0 or -errno. */
function initialise(c: HypercallCall, v: Vcpu): number {
  const p = c.ptr(3);
  if (p === null) return -EFAULT;
  const bytes = c.copyIn(p, HVM_CONTEXT_SIZE);
  // Xen takes the domain lock and checks is_initialised only after the copy: a bad pointer
  // is -EFAULT even for an initialised vCPU.
  if (v.initialised) return -EEXIST;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(4, true) !== 0) return -EINVAL;
  const mode = dv.getUint32(0, true);
  const s = mode === VCPU_HVM_MODE_64B ? decode64(dv) : mode === VCPU_HVM_MODE_32B ? decode32(dv) : null;
  if (s === null || !commonValid(s)) return -EINVAL;
  for (let i = 0; i < GPRS.length; i++) {
    // 64-bit mode: the full registers; 32-bit mode: the u32 fields, zero-extended.
    v.setReg(GPRS[i], mode === VCPU_HVM_MODE_64B ? dv.getBigUint64(X64.gpr + 8 * i, true) : dv.getUint32(X32.gpr + 4 * i, true));
  }
  v.setReg('rip', s.rip);
  v.setReg('rflags', s.rflags);
  v.setReg('cr0', s.cr0);
  v.setReg('cr3', s.cr3);
  v.setReg('cr4', s.cr4);
  // Xen sets LMA with LME (the vCPU starts with paging as given); VMRUN needs SVME in the VMCB.
  v.setReg('efer', (s.efer & EFER_LME ? s.efer | EFER_LMA : s.efer) | EFER_SVME);
  v.setReg('xcr0', 1);
  for (const seg of s.segs) v.setSeg(seg.name, { sel: 0, attr: seg.attr, limit: seg.limit, base: seg.base });
  // Xen syncs an AP's TSC with the BSP's: the same offset as vCPU 0.
  v.setReg('tscOffset', c.domain.vcpuList[0].reg('tscOffset'));
  v.initialised = true;
  return 0;
}

/** Handles vcpu_op(cmd, vcpuid, arg). */
export function vcpuOp(c: HypercallCall): number {
  const cmd = c.int(1);
  // vcpuid is an unsigned int: a negative id is a huge one. No such vCPU is -ENOENT (domain_vcpu).
  const id = c.u32(2);
  const d = c.domain;
  const v = id < d.vcpuList.length ? d.vcpuList[id] : undefined;
  if (v === undefined) return -ENOENT;
  switch (cmd) {
    case VCPUOP_initialise:
      if (id >= LEGACY_MAX_VCPUS) return -EINVAL;
      return initialise(c, v);
    case VCPUOP_up:
      if (!v.initialised) return -EINVAL;
      c.hv.vcpuUp(d, v);
      return 0;
    case VCPUOP_down:
      c.hv.vcpuOffline(d, v);
      if (v === c.vcpu || !d.canRun) c.endSlice = true;
      return 0;
    case VCPUOP_is_up:
      return v.online ? 1 : 0;
    default:
      // vcpu_info, runstate and time areas, timers (vcpuTimeOp.ts); NMIs and the rest are -ENOSYS.
      return vcpuTimeOp(c, cmd, v);
  }
}
