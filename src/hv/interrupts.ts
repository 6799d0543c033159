// A domain's interrupt controller glue: each vCPU's vLAPIC plus the event-channel callback vector, injected at entry.
//
// Two sources feed a vCPU: its x2APIC (fixed interrupts, IPIs, the LAPIC timer; edge-triggered,
// IRR -> ISR on injection, EOI by the guest) and the Xen callback vector from
// HVM_PARAM_CALLBACK_IRQ type 2, which Xen treats as level-triggered on the vcpu_info's
// evtchn_upcall_pending byte: it is offered again at every entry while the byte stays set,
// and never goes through the IRR/ISR, so the guest sends no EOI for it (xen-abi.md §2).
import { INJECT_EXT, INJECT_NONE, STATE } from './abi';
import { domainAbi } from './domainAbi';
import { domainServices } from './evtchn/services';
import { VCPU_INFO_UPCALL_PENDING } from './evtchn/twoLevel';
import type { GuestDomain } from './guestDomain';
import type { Hypervisor } from './hypervisor';
import type { Vcpu } from './vcpu';
import { resetToStartup } from './vcpuReset';
import { handleLapicMsrExit, injectPending, isLapicMsr, LapicBus, Vlapic } from './vlapic';

const RFLAGS_IF = 0x200;

/** The interrupt state of one domain. */
export class DomainInterrupts {
  readonly bus: LapicBus;
  readonly lapics: Vlapic[] = [];

  constructor(private readonly hv: Hypervisor, private readonly d: GuestDomain) {
    // An IPI or LAPIC error interrupt for a halted vCPU wakes it; injection happens at its next entry.
    this.bus = new LapicBus((id) => {
      const v = d.vcpuList[id];
      if (v) hv.wake(v);
    });
    for (let i = 0; i < d.vcpuList.length; i++) this.lapics.push(new Vlapic(i, this.bus));
    this.bus.onStartup = (id, vector) => this.startup(id, vector);
  }

  /** vCPUs that took an INIT and wait for a STARTUP IPI. */
  private readonly waitingSipi = new Set<number>();

  /**
   * INIT (vector null) and STARTUP IPIs to vCPU id: an offline vCPU that took INIT starts at
   * the next SIPI, in real mode at the vector's page, as under Xen's vLAPIC. Both go to a
   * running vCPU without effect (Xen would reset it; Linux never asks that of a live CPU).
   */
  private startup(id: number, vector: number | null): void {
    const v = this.d.vcpuList[id];
    if (!v || v.online) return;
    if (vector === null) {
      this.waitingSipi.add(id);
      return;
    }
    if (!this.waitingSipi.delete(id)) return;
    resetToStartup(v, vector);
    v.setReg('tscOffset', this.d.vcpuList[0].reg('tscOffset'));
    v.initialised = true;
    this.hv.vcpuUp(this.d, v);
  }

  /** The callback vector when the vCPU's evtchn_upcall_pending is set and one is configured, else null. */
  callbackPending(v: Vcpu): number | null {
    const vector = domainAbi(this.d).callbackVector();
    if (vector === null) return null;
    const info = domainServices(this.hv).guestEvents(this.d.id)?.vcpuInfo(v.id);
    return info && info[VCPU_INFO_UPCALL_PENDING] !== 0 ? vector : null;
  }

  /** The vector that would be delivered next (callback or LAPIC), or -1. */
  pendingVector(v: Vcpu, now: number): number {
    const lapic = this.lapics[v.id];
    lapic.timerDeadline(now);
    const cb = this.callbackPending(v);
    return Math.max(cb === null ? -1 : cb, lapic.nextInjectable());
  }

  /**
   * Called before each entry of v, after timerDeadline(v, now) ran its LAPIC timer: when the
   * state page's injection slot is free, injects the highest pending vector if RFLAGS.IF
   * allows it, or asks the shim for an interrupt-window exit otherwise.
   */
  prepareEntry(v: Vcpu): void {
    if (v.view.getUint32(STATE.injectType, true) !== INJECT_NONE) return;
    const lapic = this.lapics[v.id];
    const cb = this.callbackPending(v);
    const apicVector = lapic.nextInjectable();
    if (cb === null && apicVector < 0) return;
    if (!(v.words[STATE.rflags / 4] & RFLAGS_IF)) {
      v.view.setUint32(STATE.irqWindowWanted, 1, true);
      return;
    }
    if (cb !== null && cb > apicVector) {
      v.view.setUint32(STATE.injectType, INJECT_EXT, true);
      v.view.setUint32(STATE.injectVector, cb, true);
      v.view.setUint32(STATE.injectHasError, 0, true);
      v.view.setUint32(STATE.injectError, 0, true);
    } else {
      injectPending(lapic, v);
    }
  }

  /** The vCPU's LAPIC timer expiry in monotonic ns, or Infinity. */
  timerDeadline(v: Vcpu, now: number): number {
    const at = this.lapics[v.id].timerDeadline(now);
    return at < 0 ? Infinity : at;
  }

  /** Serves a forwarded LAPIC MSR exit; false when the MSR is not the LAPIC's. */
  handleMsr(v: Vcpu, now: number): boolean {
    if (!isLapicMsr(v.qual(0))) return false;
    handleLapicMsrExit(this.lapics[v.id], v, now);
    return true;
  }
}

const all = new WeakMap<GuestDomain, DomainInterrupts>();

/** The domain's interrupt state, created on first use. */
export function domainInterrupts(hv: Hypervisor, d: GuestDomain): DomainInterrupts {
  let x = all.get(d);
  if (!x) {
    x = new DomainInterrupts(hv, d);
    all.set(d, x);
  }
  return x;
}
