// The policy tables a new domain gets (CPUID, MSRs, hypercalls), built once and patched per domain.
import type { Shim } from './abi';
import { buildCpuidPolicy, cpuidTable, XEN_CPUID_BASE } from './cpuidPolicy';
import { hypercallTable } from './hypercallPolicy';
import { buildMsrPolicy, msrTable } from './msrPolicy';

/** The three tables domainSetCpuid, domainSetMsrs and domainSetHypercalls take. */
export interface PolicyTables {
  cpuid: Uint32Array;
  msrs: Uint32Array;
  hypercalls: Uint32Array;
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

let cache: Cached | null = null;

/**
 * The tables for domain domid. The host's CPUID leaves, the MSR policy and the hypercall
 * table are the same for every domain, so they are built once per shim; only the domid in
 * Xen's leaf base+4 differs. The shim copies what it is given, so the arrays are shared.
 */
export function policyTables(s: Shim, domid: number): PolicyTables {
  const tscKhz = Math.round(s.bootInfo().tscHz / 1000);
  if (!cache || cache.shim !== s || cache.tscKhz !== tscKhz) {
    const entries = buildCpuidPolicy({ host: (l, sl) => s.cpuid(l, sl), domid: 0, tscKhz });
    const at = entries.findIndex((e) => e.leaf === XEN_CPUID_BASE + 4);
    cache = { shim: s, tscKhz, cpuid: cpuidTable(entries), domidWord: at * 7 + 4, msrs: msrTable(buildMsrPolicy()), hypercalls: hypercallTable() };
  }
  cache.cpuid[cache.domidWord] = domid;
  return { cpuid: cache.cpuid, msrs: cache.msrs, hypercalls: cache.hypercalls };
}
