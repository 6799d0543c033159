// A domain's CPUID policy: the host's leaves filtered for a PVH guest, plus Xen's leaves at 0x40000000.
import { CPUID_APIC_ID_EBX, CPUID_OSXSAVE, CPUID_VCPU_ID_EBX } from './abi';
import { XEN_VERSION_WORD } from './hypercalls/xenVersion';
import { HYPERCALL_PAGE_MSR } from './hypercallPage';

/** Reads a host CPUID leaf (the shim's cpuid). */
export type CpuidFn = (leaf: number, subleaf: number) => [number, number, number, number];

/** One row of the table domainSetCpuid takes. */
export interface CpuidEntry {
  leaf: number;
  /** ANY (0xFFFFFFFF) matches every subleaf. */
  subleaf: number;
  eax: number;
  ebx: number;
  ecx: number;
  edx: number;
  /** CPUID_* flags: per-vCPU substitutions the shim makes. */
  flags: number;
}

export const ANY = 0xffffffff;
export const XEN_CPUID_BASE = 0x40000000;
/** "XenVMMXenVMM" in EBX, ECX, EDX. */
const XEN_SIGNATURE = [0x566e6558, 0x65584d4d, 0x4d4d566e];
/** Xen leaf base+4 EAX: XEN_HVM_CPUID_VCPU_ID_PRESENT | XEN_HVM_CPUID_DOMID_PRESENT. */
export const XEN_HVM_CPUID_FLAGS = (1 << 3) | (1 << 4);
const MAX_BASIC = 0xd;
const MAX_EXTENDED = 0x80000008;

const bit = (n: number): number => (n === 31 ? 0x80000000 : 1 << n) >>> 0;
const clear = (v: number, bits: number[]): number => {
  let out = v >>> 0;
  for (const b of bits) out = (out & ~bit(b)) >>> 0;
  return out;
};

/** What the policy needs to know about the domain and host. */
export interface CpuidPolicyInput {
  host: CpuidFn;
  domid: number;
  /** The guest's TSC rate (the host's: zazen neither scales nor emulates the TSC). */
  tscKhz: number;
  /** The domain has a virtual x2APIC (vlapic.ts): advertise APIC (leaf 1 EDX 9) and x2APIC (ECX 21). Default false. */
  x2apic?: boolean;
}

/**
 * Builds the table. From the host, hidden: SVM, VMX, SMX, MONITOR/MWAIT (and MONITORX),
 * x2APIC (unless input.x2apic) and TSC-deadline (the vLAPIC has no deadline mode), thermal/power leaves, debug-store and
 * performance-monitoring features, LA57 and protection keys, XSAVES, multi-core topology
 * (one thread per vCPU); the hypervisor bit (leaf 1 ECX bit 31) is set; leaf 1's APIC ID
 * and OSXSAVE bit are filled in per vCPU by the shim. Xen's leaves: signature with max leaf
 * base+5, version 4.17, one hypercall page at MSR 0x40000000, TSC info with tsc_khz, and
 * base+4 with the vCPU id (EBX) and domid (ECX).
 */
export function buildCpuidPolicy(input: CpuidPolicyInput): CpuidEntry[] {
  const { host, domid } = input;
  const out: CpuidEntry[] = [];
  const add = (leaf: number, subleaf: number, r: number[], flags = 0): void => {
    out.push({ leaf, subleaf, eax: r[0] >>> 0, ebx: r[1] >>> 0, ecx: r[2] >>> 0, edx: r[3] >>> 0, flags });
  };
  const h0 = host(0, 0);
  const maxBasic = Math.min(h0[0] >>> 0, MAX_BASIC);
  const intel = h0[1] === 0x756e6547;
  add(0, ANY, [maxBasic, h0[1], h0[2], h0[3]]);
  if (maxBasic >= 1) {
    const [a, b, c, d] = host(1, 0);
    // EBX: brand index and CLFLUSH size kept; one logical processor; APIC ID per vCPU.
    const ebx = (b & 0xffff) | (1 << 16);
    let ecx = (clear(c, [2, 3, 4, 5, 6, 7, 8, 11, 14, 15, 18, 21, 24]) | bit(31)) >>> 0;
    let edx = clear(d, [18, 21, 22, 28, 29, 31]);
    if (input.x2apic) {
      // Linux needs CPUID.APIC to pick an APIC interrupt mode and so reach xen_time_init.
      ecx = (ecx | bit(21)) >>> 0;
      edx = (edx | bit(9)) >>> 0;
    }
    add(1, ANY, [a, ebx, ecx, edx], CPUID_APIC_ID_EBX | CPUID_OSXSAVE);
  }
  if (maxBasic >= 2 && intel) add(2, ANY, host(2, 0));
  if (maxBasic >= 4 && intel) {
    for (let i = 0; i < 8; i++) {
      const r = host(4, i);
      if ((r[0] & 0x1f) === 0) break;
      // One core sharing each cache, one core per package.
      add(4, i, [r[0] & 0x3fff, r[1], r[2], r[3]]);
    }
  }
  if (maxBasic >= 7) {
    const [, b, c, d] = host(7, 0);
    // EBX: SGX, PQM, PQE, Intel PT hidden; ECX: PKU, OSPKE, WAITPKG, LA57, SGX_LC hidden.
    add(7, 0, [0, clear(b, [2, 12, 15, 25]), clear(c, [3, 4, 5, 16, 30]), d]);
  }
  if (maxBasic >= 0xd) {
    const d0 = host(0xd, 0);
    // EBX is the save area size for the guest's current XCR0, which only the shim knows:
    // answer the size for every component (ECX), always large enough.
    add(0xd, 0, [d0[0], d0[2], d0[2], d0[3]]);
    const d1 = host(0xd, 1);
    // XSAVES/XRSTORS (bit 3) need IA32_XSS, which the MSR policy does not offer.
    add(0xd, 1, [clear(d1[0], [3]), 0, 0, 0]);
    // One subleaf per state component the host supports (EAX bits 2-31; no x86 CPU has any in EDX yet).
    for (let i = 2; i < 32; i++) if (d0[0] & bit(i)) add(0xd, i, host(0xd, i));
  }

  const base = XEN_CPUID_BASE;
  add(base, ANY, [base + 5, XEN_SIGNATURE[0], XEN_SIGNATURE[1], XEN_SIGNATURE[2]]);
  add(base + 1, ANY, [XEN_VERSION_WORD, 0, 0, 0]);
  add(base + 2, ANY, [1, HYPERCALL_PAGE_MSR, 0, 0]);
  const ext1 = host(0x80000001, 0);
  const rdtscp = (ext1[3] & bit(27)) !== 0 ? 4 : 0;
  // Subleaf 0: flags (bit 2: RDTSCP), tsc_mode 0 (default), tsc_khz, incarnation 0.
  add(base + 3, 0, [rdtscp, 0, input.tscKhz, 0]);
  // Subleaf 2: the physical CPU's kHz; subleaf 1 (scaling, only with an emulated TSC) and the rest read zero.
  add(base + 3, 2, [0, 0, input.tscKhz, 0]);
  add(base + 4, ANY, [XEN_HVM_CPUID_FLAGS, 0, domid, 0], CPUID_VCPU_ID_EBX);
  add(base + 5, ANY, [0, 0, 0, 0]);

  const e0 = host(0x80000000, 0);
  const maxExt = Math.min(e0[0] >>> 0, MAX_EXTENDED);
  if (maxExt < 0x80000000) return out;
  add(0x80000000, ANY, [maxExt, e0[1], e0[2], e0[3]]);
  if (maxExt >= 0x80000001) {
    // ECX: CmpLegacy, SVM, SKINIT, WDT, LWP, NodeId, TOPOEXT, the performance counter
    // extensions and MONITORX hidden.
    add(0x80000001, ANY, [ext1[0], ext1[1], clear(ext1[2], [1, 2, 10, 12, 13, 15, 19, 22, 23, 24, 26, 27, 28, 29]), ext1[3]]);
  }
  for (let leaf = 0x80000002; leaf <= Math.min(maxExt, 0x80000006); leaf++) add(leaf, ANY, host(leaf, 0));
  if (maxExt >= 0x80000007) add(0x80000007, ANY, [0, 0, 0, host(0x80000007, 0)[3] & bit(8)]);
  if (maxExt >= 0x80000008) {
    const r = host(0x80000008, 0);
    // ECX 0: one core per package.
    add(0x80000008, ANY, [r[0], r[1], 0, 0]);
  }
  return out;
}

/** The entries as the Uint32Array of 7 words each that domainSetCpuid takes. */
export function cpuidTable(entries: CpuidEntry[]): Uint32Array {
  const t = new Uint32Array(entries.length * 7);
  entries.forEach((e, i) => {
    t.set([e.leaf, e.subleaf, e.eax, e.ebx, e.ecx, e.edx, e.flags], i * 7);
  });
  return t;
}

/** What a vCPU would see for (leaf, subleaf), applying the shim's per-vCPU substitutions (tests, tools). */
export function cpuidLookup(entries: CpuidEntry[], leaf: number, subleaf: number, vcpuId: number, osxsave = false): [number, number, number, number] {
  const e = entries.find((x) => x.leaf === leaf && x.subleaf === subleaf) ?? entries.find((x) => x.leaf === leaf && x.subleaf === ANY);
  if (!e) return [0, 0, 0, 0];
  let { ebx, ecx } = e;
  if (e.flags & CPUID_VCPU_ID_EBX) ebx = vcpuId;
  if (e.flags & CPUID_APIC_ID_EBX) ebx = ((ebx & 0xffffff) | (vcpuId << 24)) >>> 0;
  if (e.flags & CPUID_OSXSAVE) ecx = ((ecx & ~(1 << 27)) | (osxsave ? 1 << 27 : 0)) >>> 0;
  return [e.eax, ebx, ecx, e.edx];
}
