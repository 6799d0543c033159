// The policy tables a new domain gets (CPUID, MSRs, hypercalls), built once and patched per domain.
import { DEVICE_PIT2, MSR_CONST, MSR_STORED, type Shim } from './abi';
import { buildCpuidPolicy, cpuidTable, XEN_CPUID_BASE } from './cpuidPolicy';
import { hypercallTable } from './hypercallPolicy';
import { buildMsrPolicy, msrTable, type MsrEntry } from './msrPolicy';
import { lapicMsrEntries, MSR_APIC_BASE } from './vlapic';

/** The three tables domainSetCpuid, domainSetMsrs and domainSetHypercalls take. */
export interface PolicyTables {
  cpuid: Uint32Array;
  msrs: Uint32Array;
  hypercalls: Uint32Array;
  /** domainSetDevices flags (DEVICE_*). */
  devices: number;
}

interface Cached {
  shim: Shim;
  tscKhz: number;
  cpuid: Uint32Array;
  /** Word index of the domid (ECX of Xen leaf base+4) in the CPUID table. */
  domidWord: number;
  msrs: Uint32Array;
  hypercalls: Uint32Array;
}

/** Which guest profile the tables are for: 'linux' adds an x2APIC (CPUID bit, APIC_BASE and 0x800-0x83F forwarded to the vLAPIC). */
export type PolicyProfile = 'plain' | 'linux';

const caches: { [p in PolicyProfile]: Cached | null } = { plain: null, linux: null };

/** AMD SYSCFG: Linux's MTRR code reads it on AMD CPUs; 0 says no MtrrFixDramModEn (fixed MTRRs are plain). */
const MSR_AMD_SYSCFG = 0xc0010010;
/** AMD NB_CFG: Linux's amd_bus code sets its EnableCF8ExtCfg bit; kept per vCPU (there is no northbridge). */
const MSR_AMD_NB_CFG = 0xc001001f;
/** TSC_AUX: Linux writes the CPU number for RDTSCP/RDPID when CPUID offers them; kept per vCPU. */
const MSR_TSC_AUX = 0xc0000103;

/**
 * The MSR rows of a profile: the linux one replaces the constant APIC_BASE by the vLAPIC's
 * forwarded MSRs and adds SYSCFG (constant 0), TSC_AUX and NB_CFG (stored), which Linux touches at boot.
 */
export function profileMsrs(profile: PolicyProfile): MsrEntry[] {
  const base = buildMsrPolicy();
  if (profile === 'plain') return base;
  return base.filter((e) => e.msr !== MSR_APIC_BASE).concat(lapicMsrEntries(), [
    { msr: MSR_AMD_SYSCFG, action: MSR_CONST, value: 0n },
    { msr: MSR_TSC_AUX, action: MSR_STORED, value: 0n },
    { msr: MSR_AMD_NB_CFG, action: MSR_STORED, value: 0n },
  ]);
}

/**
 * The fast-path device models of a profile. Linux gets PIT channel 2: its early CPU
 * calibration polls that counter, and with nothing there (all-ones, as Xen answers a PVH
 * domU) it spins through 100,000 port reads before giving up; see runtime-c-shim/pit.c.
 */
export function profileDevices(profile: PolicyProfile): number {
  return profile === 'linux' ? DEVICE_PIT2 : 0;
}

/**
 * The tables for domain domid. The host's CPUID leaves, the MSR policy and the hypercall
 * table are the same for every domain, so they are built once per shim; only the domid in
 * Xen's leaf base+4 differs. The shim copies what it is given, so the arrays are shared.
 */
export function policyTables(s: Shim, domid: number, profile: PolicyProfile = 'plain'): PolicyTables {
  const tscKhz = Math.round(s.bootInfo().tscHz / 1000);
  let cache = caches[profile];
  if (!cache || cache.shim !== s || cache.tscKhz !== tscKhz) {
    const entries = buildCpuidPolicy({ host: (l, sl) => s.cpuid(l, sl), domid: 0, tscKhz, x2apic: profile === 'linux' });
    const at = entries.findIndex((e) => e.leaf === XEN_CPUID_BASE + 4);
    cache = { shim: s, tscKhz, cpuid: cpuidTable(entries), domidWord: at * 7 + 4, msrs: msrTable(profileMsrs(profile)), hypercalls: hypercallTable() };
    caches[profile] = cache;
  }
  cache.cpuid[cache.domidWord] = domid;
  return { cpuid: cache.cpuid, msrs: cache.msrs, hypercalls: cache.hypercalls, devices: profileDevices(profile) };
}
