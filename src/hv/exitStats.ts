// Exit and hypercall counters of vCPUs and domains, read from the shim's state pages.
import { EXIT_KINDS, STATE } from './abi';
import type { GuestDomain } from './guestDomain';
import type { Vcpu } from './vcpu';

/** Xen's hypercall names by number (xen/include/public/xen.h), for reports. */
const HYPERCALL_NAMES: Record<number, string> = {
  1: 'mmu_update', 2: 'set_gdt', 3: 'stack_switch', 4: 'set_callbacks', 5: 'fpu_taskswitch',
  6: 'sched_op_compat', 7: 'platform_op', 8: 'set_debugreg', 9: 'get_debugreg',
  10: 'update_descriptor', 12: 'memory_op', 13: 'multicall', 14: 'update_va_mapping',
  15: 'set_timer_op', 16: 'event_channel_op_compat', 17: 'xen_version', 18: 'console_io',
  19: 'physdev_op_compat', 20: 'grant_table_op', 21: 'vm_assist', 23: 'iret', 24: 'vcpu_op',
  25: 'set_segment_base', 26: 'mmuext_op', 27: 'xsm_op', 28: 'nmi_op', 29: 'sched_op',
  30: 'callback_op', 32: 'event_channel_op', 33: 'physdev_op', 34: 'hvm_op', 35: 'sysctl',
  36: 'domctl', 41: 'dm_op', 63: 'numbers 63 and above',
};

/** A hypercall number's Xen name ("hypercall N" when Xen has none). */
export function hypercallName(nr: number): string {
  return HYPERCALL_NAMES[nr] ?? `hypercall ${nr}`;
}

/** What a vCPU or a domain's vCPUs did since creation. */
export interface ExitStats {
  /** VM exits, all kinds. */
  exits: number;
  /** Exits the shim handled without TypeScript. */
  fast: number;
  /** Exits forwarded to TypeScript. */
  forwarded: number;
  /** Time inside vcpuRun (the guest plus its fast exits), in ns. */
  runNs: number;
  /** Hypercalls, fast and forwarded. */
  hypercalls: number;
  /** Exits by kind name (only kinds that happened). */
  byKind: Record<string, number>;
  /** Hypercalls by Xen name (only those made). */
  hypercallsByName: Record<string, number>;
}

function u64(v: Vcpu, off: number): number {
  return v.words[off / 4] + v.words[off / 4 + 1] * 4294967296;
}

function emptyStats(): ExitStats {
  return { exits: 0, fast: 0, forwarded: 0, runNs: 0, hypercalls: 0, byKind: {}, hypercallsByName: {} };
}

function addVcpu(into: ExitStats, v: Vcpu): void {
  into.exits += u64(v, STATE.statExits);
  into.fast += u64(v, STATE.statFastExits);
  into.forwarded += u64(v, STATE.statForwarded);
  into.runNs += u64(v, STATE.statRunNs);
  into.hypercalls += u64(v, STATE.statHypercalls);
  for (let k = 0; k < EXIT_KINDS.length; k++) {
    const n = u64(v, STATE.statKind + 8 * k);
    if (n) into.byKind[EXIT_KINDS[k]] = (into.byKind[EXIT_KINDS[k]] ?? 0) + n;
  }
  for (let nr = 0; nr < 64; nr++) {
    const n = u64(v, STATE.statHcall + 8 * nr);
    const name = hypercallName(nr);
    if (n) into.hypercallsByName[name] = (into.hypercallsByName[name] ?? 0) + n;
  }
}

/** One vCPU's counters. */
export function vcpuExitStats(v: Vcpu): ExitStats {
  const s = emptyStats();
  addVcpu(s, v);
  return s;
}

/** The sum over a domain's vCPUs. */
export function domainExitStats(d: GuestDomain): ExitStats {
  const s = emptyStats();
  for (const v of d.vcpuList) addVcpu(s, v);
  return s;
}
