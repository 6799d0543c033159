// Exits the shim forwards to TypeScript (RUN_EXIT) and crash results (RUN_CRASH), decoded and handled.
import { EXIT_HYPERCALL, EXIT_INVALID, EXIT_IO, EXIT_IRQ_WINDOW, EXIT_MMIO, EXIT_MSR, EXIT_NPF, EXIT_SHUTDOWN, EXIT_UNHANDLED, STATE } from './abi';
import type { GuestDomain } from './guestDomain';
import { dispatchHypercall } from './hypercalls/dispatch';
import { hypercallPageMsr, HYPERCALL_PAGE_MSR } from './hypercallPage';
import type { Hypervisor } from './hypervisor';
import { domainInterrupts } from './interrupts';
import type { Vcpu } from './vcpu';
import { hex } from './hex';

const VEC_GP = 13;

/** The CPU vendor the guests see (they get the host's vendor string): picks VMMCALL or VMCALL stubs. */
export type Vendor = 'amd' | 'intel' | 'other';

/**
 * Handles one forwarded exit; returns true if the vCPU may be entered again at once. Port
 * and MMIO exits cannot happen yet (nothing is registered with the shim), so one that does
 * crashes the domain with a message saying so rather than guessing at a device.
 */
export function handleExit(hv: Hypervisor, d: GuestDomain, v: Vcpu, vendor: Vendor): boolean {
  const reason = v.exitReason;
  if (reason === EXIT_HYPERCALL) return dispatchHypercall(hv, d, v, v.words[STATE.exitQual / 4] === 1);
  switch (reason) {
    case EXIT_MSR: {
      const msr = v.qual(0);
      const write = v.qual(1) === 1;
      const [lo, hi] = v.qualHalves(2);
      if (msr === HYPERCALL_PAGE_MSR) {
        hypercallPageMsr(d, v, write, lo, hi, vendor);
      } else if (domainInterrupts(hv, d).handleMsr(v, hv.now())) {
        // APIC_BASE and the x2APIC registers, forwarded by a policy with lapicMsrEntries().
      } else {
        // No other MSR is forwarded by the policy; #GP like any MSR Xen does not know.
        v.rewindInstruction();
        v.injectException(VEC_GP, 0);
      }
      return true;
    }
    case EXIT_IRQ_WINDOW:
      return true;
    case EXIT_IO: {
      const port = v.qual(0);
      const dir = v.qual(2) === 1 ? 'read' : 'write';
      hv.crash(d, v, `${dir} of ${v.qual(1)} byte(s) at I/O port ${hex(port)} forwarded, but no device model serves it`);
      return false;
    }
    case EXIT_MMIO:
      hv.crash(d, v, `${v.qual(1) === 1 ? 'write' : 'read'} of ${v.qual(0)} byte(s) at MMIO ${hex(v.u64(STATE.exitGpa))} forwarded, but no device model serves it`);
      return false;
    default:
      hv.crash(d, v, `unexpected forwarded exit reason ${reason}`);
      return false;
  }
}

/** Why the shim ended a run with RUN_CRASH, in words. */
export function crashReason(v: Vcpu): string {
  const gpa = v.u64(STATE.exitGpa);
  switch (v.exitReason) {
    case EXIT_SHUTDOWN:
      return 'triple fault';
    case EXIT_INVALID:
      return `invalid guest state: VMRUN refused it (exit code ${hex(v.qual(0))})`;
    case EXIT_NPF:
      return `nested page fault at guest-physical ${hex(gpa)} (error code ${hex(v.qual(0))}): outside guest RAM and MMIO`;
    case EXIT_UNHANDLED:
      return `unhandled exit (vendor exit code ${hex(v.qual(0))})`;
    default:
      return `crash (exit reason ${v.exitReason})`;
  }
}
