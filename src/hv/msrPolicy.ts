// A domain's MSR policy for the shim: guest-owned VMCB MSRs, constants, per-vCPU values, forwarded MSRs; the rest #GP.
import { MSR_CONST, MSR_FORWARD, MSR_GUEST, MSR_STORED } from './abi';
import { HYPERCALL_PAGE_MSR } from './hypercallPage';

/** One row of the table domainSetMsrs takes. */
export interface MsrEntry {
  msr: number;
  /** MSR_CONST, MSR_STORED, MSR_FORWARD or MSR_GUEST. */
  action: number;
  /** The value (MSR_CONST) or initial value (MSR_STORED), as a bigint. */
  value: bigint;
}

/** IA32_APIC_BASE: the xAPIC at 0xFEE00000, enabled (bit 11), on the bootstrap processor (bit 8). */
export const APIC_BASE_VALUE = 0xfee00900n;
/** MTRRcap: 8 variable ranges, fixed ranges (bit 8), write-combining (bit 10); no SMRR. */
export const MTRR_CAP_VALUE = 0x508n;
/** MTRRdefType: MTRRs on (bit 11), fixed ranges on (bit 10), default type write-back (6). */
export const MTRR_DEF_TYPE_VALUE = 0xc06n;
/** Every fixed-range MTRR: eight write-back (6) ranges. */
export const MTRR_FIXED_WB = 0x0606060606060606n;
const MTRR_FIXED = [0x250, 0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b, 0x26c, 0x26d, 0x26e, 0x26f];

/**
 * The policy. Guest-owned (held in the VMCB, read and written by the guest at full speed):
 * TSC, SYSENTER_CS/ESP/EIP, PAT, EFER, STAR, LSTAR, CSTAR, SFMASK, FS/GS/KERNEL_GS base.
 * Constant: APIC_BASE (xAPIC at its default address; secondary vCPUs wait for VCPUOP_up and
 * never read it), MTRRcap, MCG_CAP (no banks) and MCG_STATUS. Per-vCPU values the guest may
 * write: MTRRdefType (write-back default), the fixed-range MTRRs (write-back) and the 8
 * variable pairs (off). Forwarded to TypeScript: Xen's hypercall-page MSR. Everything else
 * raises #GP, as Xen does for MSRs it does not know.
 */
export function buildMsrPolicy(): MsrEntry[] {
  const own = [0x10, 0x174, 0x175, 0x176, 0x277, 0xc0000080, 0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, 0xc0000100, 0xc0000101, 0xc0000102];
  const out: MsrEntry[] = own.map((msr) => ({ msr, action: MSR_GUEST, value: 0n }));
  out.push({ msr: 0x1b, action: MSR_CONST, value: APIC_BASE_VALUE });
  out.push({ msr: 0xfe, action: MSR_CONST, value: MTRR_CAP_VALUE });
  out.push({ msr: 0x179, action: MSR_CONST, value: 0n });
  out.push({ msr: 0x17a, action: MSR_CONST, value: 0n });
  out.push({ msr: 0x2ff, action: MSR_STORED, value: MTRR_DEF_TYPE_VALUE });
  for (const msr of MTRR_FIXED) out.push({ msr, action: MSR_STORED, value: MTRR_FIXED_WB });
  for (let i = 0; i < 16; i++) out.push({ msr: 0x200 + i, action: MSR_STORED, value: 0n });
  out.push({ msr: HYPERCALL_PAGE_MSR, action: MSR_FORWARD, value: 0n });
  return out;
}

/** The entries as the Uint32Array of 4 words each ({msr, action, lo, hi}) that domainSetMsrs takes. */
export function msrTable(entries: MsrEntry[]): Uint32Array {
  const t = new Uint32Array(entries.length * 4);
  entries.forEach((e, i) => {
    t.set([e.msr, e.action, Number(e.value & 0xffffffffn), Number((e.value >> 32n) & 0xffffffffn)], i * 4);
  });
  return t;
}
