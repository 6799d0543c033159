// Runs guest vCPUs from the event loop: credit-scheduled slices within a budget, so the REPL never starves.
import { RUN_CRASH, RUN_EXIT, RUN_HALT, RUN_HOST, RUN_PREEMPT, STATE, shim as defaultShim, type Shim } from './abi';
import { crashReason, handleExit, type Vendor } from './exits';
import type { GuestDomain } from './guestDomain';
import { guestTime, type GuestTime } from './guestTime';
import { domainInterrupts } from './interrupts';
import type { Hypervisor } from './hypervisor';
import type { Vcpu } from './vcpu';
import { drainDeferredSends } from './evtchn/sendPorts';

/** Guest time per call of run(): after it the REPL and timers get their turn. */
export const DEFAULT_BUDGET_NS = 50e6;
const RFLAGS_IF = 0x200;
const W_RFLAGS = STATE.rflags / 4;
const W_DEFERRED = STATE.deferredSends / 4;

export interface RunLoopOptions {
  budgetNs?: number;
  shim?: () => Shim;
}

/** What one run() did, for tests and `hv` introspection. */
export interface RunStats {
  slices: number;
  /** Why the last slice ended (RUN_*), 0 before any. */
  lastResult: number;
  /** Calls of run(), and the time spent in them, in ns. */
  calls: number;
  loopNs: number;
  /** Of loopNs: inside vcpuRun (guests and their fast exits), and handling forwarded exits. */
  guestNs: number;
  exitNs: number;
  /** Forwarded exits handled. */
  exits: number;
}

/**
 * Called from every __zazenPoll. Each call runs runnable vCPUs picked by the credit
 * scheduler, each for its slice, until the budget is spent, console input arrives
 * (RUN_HOST) or nothing is runnable; forwarded exits are handled in between without going
 * back to the scheduler. It returns the next deadline for the poll hook: now when vCPUs are
 * still runnable (so the shim calls again at once, after the REPL's input and timers), the
 * scheduler's next wake-up when only capped domains wait, or -1 when every vCPU waits for
 * an event.
 *
 * HLT with interrupts enabled blocks the vCPU until an interrupt is pending (an event
 * channel upcall, a guest timer, a LAPIC interrupt; interrupts.ts, guestTime.ts); HLT
 * with interrupts disabled and nothing pending can never end, so the vCPU goes down and a
 * domain without online vCPUs powers off, as under Xen (Hypervisor.vcpuDown).
 */
export class RunLoop {
  readonly stats: RunStats = { slices: 0, lastResult: 0, calls: 0, loopNs: 0, guestNs: 0, exitNs: 0, exits: 0 };
  private readonly budgetNs: number;
  private readonly shimOf: () => Shim;
  private vendorCache: Vendor | null = null;
  private readonly time: GuestTime;

  constructor(
    private readonly hv: Hypervisor,
    opts: RunLoopOptions = {},
  ) {
    this.budgetNs = opts.budgetNs ?? DEFAULT_BUDGET_NS;
    this.shimOf = opts.shim ?? defaultShim;
    this.time = guestTime(hv, this.shimOf);
  }

  /** Runs guests for up to the budget; returns the next deadline in monotonic ns, or -1. */
  run(): number {
    const s = this.shimOf();
    const start = s.monotonicNs();
    const next = this.runFor(s, start);
    this.stats.calls++;
    this.stats.loopNs += s.monotonicNs() - start;
    return next;
  }

  private runFor(s: Shim, start: number): number {
    let now = start;
    for (;;) {
      const left = this.budgetNs - (now - start);
      if (left <= 0) return now;
      // Expired guest timers raise VIRQ_TIMER first: that wakes the vCPUs blocked on them.
      this.time.fireDue();
      this.wakeOnInterrupts(now);
      // Those wake-ups read the clock afresh (Hypervisor.wake) and the scheduler's clock must
      // never go back, so pick with a reading taken after them.
      now = Math.max(now, s.monotonicNs());
      const pick = this.hv.sched.pickNext(now);
      if (!pick.vcpu) {
        this.hv.flushEvents();
        const timer = Math.min(this.time.nextDeadline(), this.nextLapicDeadline(now));
        const wake = pick.nextWakeNs === null ? timer : Math.min(pick.nextWakeNs, timer);
        return wake === Infinity ? -1 : wake;
      }
      const d = this.hv.guest(pick.vcpu.domid) as GuestDomain;
      const v = d.vcpuList[pick.vcpu.id];
      const r = this.runVcpu(s, d, v, now + Math.min(pick.sliceNs, left));
      const end = s.monotonicNs();
      this.hv.charge(v, Math.max(0, end - now));
      this.stats.slices++;
      this.stats.lastResult = r;
      if (r === RUN_HALT) {
        // HLT with an interrupt already pending does not block (Xen's local_events_need_delivery).
        if (v.words[W_RFLAGS] & RFLAGS_IF) {
          if (domainInterrupts(this.hv, d).pendingVector(v, end) < 0) this.hv.block(v);
        } else this.hv.vcpuDown(d, v);
        this.time.afterRun(d, v);
      } else if (r === RUN_CRASH) {
        this.hv.crash(d, v, crashReason(v), true);
      } else {
        this.time.afterRun(d, v);
      }
      this.hv.flushEvents();
      now = end;
      if (r === RUN_HOST) return now;
    }
  }

  /** Enters the vCPU until its slice ends or something needs the scheduler; returns the RUN_* result. */
  private runVcpu(s: Shim, d: GuestDomain, v: Vcpu, deadline: number): number {
    const vendor = this.vendor(s);
    let exits = 0;
    const ints = domainInterrupts(this.hv, d);
    this.time.beforeRun(d, v);
    for (;;) {
      const now = s.monotonicNs();
      // A timer that expired during the slice raises VIRQ_TIMER now, so the upcall goes in at this entry.
      let timerAt = this.time.vcpuDeadline(d, v);
      if (timerAt <= now) {
        this.time.fireDue();
        timerAt = this.time.vcpuDeadline(d, v);
      }
      // Runs the LAPIC timer to now (once per entry: prepareEntry relies on it).
      const lapicAt = ints.timerDeadline(v, now);
      ints.prepareEntry(v);
      // The slice ends at the vCPU's next timer (Xen or LAPIC), so its interrupt comes on time.
      const until = Math.min(deadline, timerAt, lapicAt);
      let r: number;
      const entered = s.monotonicNs();
      try {
        r = s.vcpuRun(v.handle, until);
        this.stats.guestNs += s.monotonicNs() - entered;
      } catch (e) {
        // The shim refused the state TypeScript left (a bad injection, a bad XCR0...).
        this.hv.crash(d, v, `vcpuRun failed: ${e instanceof Error ? e.message : String(e)}`);
        return RUN_PREEMPT;
      }
      // Sends the shim took for TypeScript come first: the guest made them before this exit.
      if (v.words[W_DEFERRED] | v.words[W_DEFERRED + 1]) drainDeferredSends(this.hv, d, v);
      if (r !== RUN_EXIT) return r;
      const at = s.monotonicNs();
      const more = handleExit(this.hv, d, v, vendor);
      this.stats.exitNs += s.monotonicNs() - at;
      this.stats.exits++;
      if (!more || !d.canRun || v.blocked || !v.online) return RUN_PREEMPT;
      // The shim ends slices by its timer; this catches a guest that only makes forwarded exits.
      if ((++exits & 31) === 0 && s.monotonicNs() >= deadline) return RUN_PREEMPT;
    }
  }

  /** Wakes blocked vCPUs that have an interrupt to take (a LAPIC timer expired, an IPI, an event). */
  private wakeOnInterrupts(now: number): void {
    for (const d of this.hv.guests()) {
      if (!d.canRun) continue;
      for (const v of d.vcpuList) {
        if (v.blocked && v.online && domainInterrupts(this.hv, d).pendingVector(v, now) >= 0) this.hv.wake(v);
      }
    }
  }

  /** The earliest LAPIC timer expiry of any online vCPU, or Infinity (now when one just woke a vCPU). */
  private nextLapicDeadline(now: number): number {
    let at = Infinity;
    for (const d of this.hv.guests()) {
      if (!d.canRun) continue;
      for (const v of d.vcpuList) {
        if (!v.online) continue;
        const wasBlocked = v.blocked;
        at = Math.min(at, domainInterrupts(this.hv, d).timerDeadline(v, now));
        // Running the timer to now may have raised its interrupt and woken the vCPU: come back at once.
        if (wasBlocked && !v.blocked) return now;
      }
    }
    return at;
  }

  private vendor(s: Shim): Vendor {
    if (this.vendorCache === null) {
      try {
        this.vendorCache = s.virtCaps().vendor;
      } catch {
        this.vendorCache = 'other';
      }
    }
    return this.vendorCache;
  }
}
