// What CPUID and the VMX/SVM MSRs say about the boot CPU: features, topology, virtualization support.
import type { Shim } from './abi';

type Regs = [number, number, number, number];

/** The slice of the shim CPU probing needs (so tests can fake it). */
export type CpuProbe = Pick<Shim, 'cpuid' | 'rdmsr'>;

/** Hardware virtualization as `xl info` reports it in virt_caps. */
export interface VirtCaps {
  vendor: 'svm' | 'vmx' | 'none';
  /** SVM or VMX present and not disabled by the firmware. */
  hvm: boolean;
  /** Nested paging: AMD NPT or Intel EPT. */
  hap: boolean;
  /** Why hvm or hap is missing, for the log. */
  notes: string[];
}

/** Socket layout from CPUID. */
export interface Topology {
  threadsPerCore: number;
  coresPerSocket: number;
}

function cpuid(p: CpuProbe, leaf: number, subleaf = 0): Regs {
  const r = p.cpuid(leaf, subleaf);
  return [r[0] >>> 0, r[1] >>> 0, r[2] >>> 0, r[3] >>> 0];
}

function maxLeaf(p: CpuProbe): number {
  return cpuid(p, 0)[0];
}

function maxExtLeaf(p: CpuProbe): number {
  const max = cpuid(p, 0x80000000)[0];
  // Old CPUs answer an unsupported extended leaf with garbage below 0x80000000.
  return max >= 0x80000000 ? max : 0;
}

/** The vendor string, e.g. "AuthenticAMD" or "GenuineIntel". */
export function cpuVendor(p: CpuProbe): string {
  const [, b, c, d] = cpuid(p, 0);
  let s = '';
  for (const reg of [b, d, c]) for (let i = 0; i < 4; i++) s += String.fromCharCode((reg >>> (8 * i)) & 0xff);
  return s;
}

/**
 * The eight hw_caps words in Xen's featureset order (public/arch-x86/cpufeatureset.h):
 * 1.EDX, 1.ECX, e1.EDX, e1.ECX, D[1].EAX, 7[0].EBX, 7[0].ECX, e7.EDX.
 */
export function hwCaps(p: CpuProbe): number[] {
  const max = maxLeaf(p);
  const ext = maxExtLeaf(p);
  const l1 = max >= 1 ? cpuid(p, 1) : [0, 0, 0, 0];
  const e1 = ext >= 0x80000001 ? cpuid(p, 0x80000001) : [0, 0, 0, 0];
  const d1 = max >= 0xd ? cpuid(p, 0xd, 1) : [0, 0, 0, 0];
  const l7 = max >= 7 ? cpuid(p, 7, 0) : [0, 0, 0, 0];
  const e7 = ext >= 0x80000007 ? cpuid(p, 0x80000007) : [0, 0, 0, 0];
  return [l1[3], l1[2], e1[3], e1[2], d1[0], l7[1], l7[2], e7[3]];
}

/** Formats hw_caps as xl does: eight 8-digit hex words joined by colons. */
export function formatHwCaps(words: number[]): string {
  return words.map((w) => (w >>> 0).toString(16).padStart(8, '0')).join(':');
}

function msr(p: CpuProbe, index: number): bigint | undefined {
  try {
    return p.rdmsr(index);
  } catch {
    // #GP: the MSR does not exist on this CPU (or the emulator does not model it).
    return undefined;
  }
}

function svmCaps(p: CpuProbe, caps: VirtCaps): void {
  caps.vendor = 'svm';
  // VM_CR.SVMDIS (MSR 0xC0010114 bit 4) set by firmware means EFER.SVME cannot be turned on.
  const vmcr = msr(p, 0xc0010114);
  if (vmcr !== undefined && (vmcr & 0x10n) !== 0n) {
    caps.notes.push('SVM disabled by firmware (VM_CR.SVMDIS)');
    return;
  }
  caps.hvm = true;
  if (maxExtLeaf(p) >= 0x8000000a && (cpuid(p, 0x8000000a)[3] & 1) !== 0) caps.hap = true;
  else caps.notes.push('SVM without nested paging (CPUID 0x8000000A EDX bit 0 clear)');
}

function vmxCaps(p: CpuProbe, caps: VirtCaps): void {
  caps.vendor = 'vmx';
  // IA32_FEATURE_CONTROL locked (bit 0) with VMX-outside-SMX (bit 2) clear: VMXON would fault.
  const fc = msr(p, 0x3a);
  if (fc !== undefined && (fc & 1n) !== 0n && (fc & 4n) === 0n) {
    caps.notes.push('VMX disabled by firmware (IA32_FEATURE_CONTROL)');
    return;
  }
  caps.hvm = true;
  // EPT needs "activate secondary controls" (allowed-1 bit 63 of IA32_VMX_PROCBASED_CTLS)
  // and "enable EPT" (allowed-1 bit 33 of IA32_VMX_PROCBASED_CTLS2).
  const ctls = msr(p, 0x482);
  const ctls2 = msr(p, 0x48b);
  if (ctls !== undefined && ctls2 !== undefined && (ctls >> 63n) & 1n && (ctls2 >> 33n) & 1n) caps.hap = true;
  else caps.notes.push('VMX without EPT');
}

/** Detects SVM (CPUID 0x80000001 ECX bit 2) or VMX (CPUID 1 ECX bit 5) and nested paging. */
export function virtCaps(p: CpuProbe): VirtCaps {
  const caps: VirtCaps = { vendor: 'none', hvm: false, hap: false, notes: [] };
  const ext = maxExtLeaf(p);
  if (ext >= 0x80000001 && (cpuid(p, 0x80000001)[2] & 4) !== 0) svmCaps(p, caps);
  else if (maxLeaf(p) >= 1 && (cpuid(p, 1)[2] & 0x20) !== 0) vmxCaps(p, caps);
  else caps.notes.push('no SVM or VMX in CPUID');
  return caps;
}

/** Threads per core and cores per socket, from leaf 0xB, else AMD's leaves, else leaf 1. */
export function topology(p: CpuProbe): Topology {
  const max = maxLeaf(p);
  if (max >= 0xb) {
    let threads = 0;
    let logical = 0;
    // Leaf 0xB enumerates levels until a level type of 0; type 1 is SMT, type 2 is core.
    for (let sub = 0; sub < 8; sub++) {
      const [, b, c] = cpuid(p, 0xb, sub);
      const type = (c >> 8) & 0xff;
      if (type === 0) break;
      if (type === 1) threads = b & 0xffff;
      if (type === 2) logical = b & 0xffff;
    }
    if (threads > 0 && logical >= threads) return { threadsPerCore: threads, coresPerSocket: Math.max(1, Math.floor(logical / threads)) };
  }
  const ext = maxExtLeaf(p);
  if (ext >= 0x80000008 && cpuVendor(p) === 'AuthenticAMD') {
    const topoext = ext >= 0x8000001e && (cpuid(p, 0x80000001)[2] & (1 << 22)) !== 0;
    const threads = topoext ? ((cpuid(p, 0x8000001e)[1] >> 8) & 0xff) + 1 : 1;
    const logical = (cpuid(p, 0x80000008)[2] & 0xff) + 1;
    return { threadsPerCore: threads, coresPerSocket: Math.max(1, Math.floor(logical / threads)) };
  }
  if (max >= 1) {
    const [, b, , d] = cpuid(p, 1);
    // EDX bit 28 (HTT): EBX[23:16] is the number of logical processors per package.
    const logical = d & (1 << 28) ? (b >> 16) & 0xff : 1;
    return { threadsPerCore: 1, coresPerSocket: Math.max(1, logical) };
  }
  return { threadsPerCore: 1, coresPerSocket: 1 };
}
