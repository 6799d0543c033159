// The hypervisor's domain operations: scheduling glue, pause, shutdown, crash, destroy, vCPU block/wake/down.
import { shim as defaultShim, type Shim } from './abi';
import { crashReport } from './crashReport';
import { domains as defaultTable, type DomainTable } from './domains';
import { GuestDomain, SHUTDOWN_CRASH, SHUTDOWN_POWEROFF, shutdownReasonName } from './guestDomain';
import { log } from './log';
import { CreditScheduler, type SchedOptions } from './sched/credit';
import type { Vcpu } from './vcpu';

/** What the toolstack hears about domains (Xen's VIRQ_DOM_EXC, seen by xl's monitor). */
export interface DomainListener {
  /** The domain has shut down (reason as reported: the latched code if one was set). */
  shutdown?(d: GuestDomain, reason: number): void;
  /** The domain is gone; its id may be reused later. */
  destroyed?(d: GuestDomain): void;
}

/** Knobs; the defaults suit a machine where zazen's REPL shares the CPU with the guests. */
export interface HypervisorOptions {
  sched?: SchedOptions;
  shim?: () => Shim;
}

/** Owns the guest domains and keeps the scheduler in step with their state. */
export class Hypervisor {
  readonly sched: CreditScheduler;
  /** CPU time ever charged to guests, destroyed ones included (Domain-0 gets the rest). */
  guestCpuNs = 0;
  private readonly guestsById = new Map<number, GuestDomain>();
  private readonly listeners: DomainListener[] = [];
  private readonly queued: { d: GuestDomain; reason: number }[] = [];
  private readonly shimOf: () => Shim;

  constructor(
    readonly table: DomainTable = defaultTable,
    opts: HypervisorOptions = {},
  ) {
    this.sched = new CreditScheduler(opts.sched ?? {});
    this.shimOf = opts.shim ?? defaultShim;
    // Domain-0 has no vCPUs here (the REPL runs between guest slices) but keeps its
    // weight and cap so that `xl sched-credit` lists and sets it like any domain.
    this.sched.addDomain(0);
  }

  /** The monotonic clock, in ns. */
  now(): number {
    return this.shimOf().monotonicNs();
  }

  /** A guest by id. */
  guest(id: number): GuestDomain | undefined {
    return this.guestsById.get(id);
  }

  /** All guests, by id. */
  guests(): GuestDomain[] {
    return Array.from(this.guestsById.values()).sort((a, b) => a.id - b.id);
  }

  /** Subscribes to shutdown and destroy notifications. */
  addListener(l: DomainListener): () => void {
    this.listeners.push(l);
    return () => {
      const i = this.listeners.indexOf(l);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Registers a built domain: table, scheduler (its weight and cap), vCPU 0 online; paused if asked. */
  add(d: GuestDomain, paused: boolean): void {
    this.table.register(d);
    try {
      this.sched.addDomain(d.id, { weight: d.config.weight, cap: d.config.cap });
    } catch (e) {
      this.table.remove(d.id);
      throw e;
    }
    this.guestsById.set(d.id, d);
    if (paused) d.pauseCount = 1;
    for (const v of d.vcpuList) {
      v.sched = this.sched.addVcpu(d.id, v.id);
      // PVH: only vCPU 0 starts; the others wait for VCPUOP_up, as under Xen.
      v.online = v.id === 0;
      v.initialised = v.id === 0;
      if (!v.online) this.sched.setOnline(v.sched, false);
      this.sync(v);
    }
  }

  /** xl pause: stops the domain's vCPUs until as many unpauses. */
  pause(d: GuestDomain): void {
    d.pauseCount++;
    for (const v of d.vcpuList) this.sync(v);
  }

  /**
   * xl unpause. It also wakes blocked vCPUs: zazen has no event channels or guest timers yet,
   * so this is the only event a vCPU in SCHEDOP_block or HLT can wait for.
   */
  unpause(d: GuestDomain): void {
    if (d.pauseCount === 0) throw new Error(`domain ${d.id} is not paused`);
    d.pauseCount--;
    for (const v of d.vcpuList) {
      this.sync(v);
      if (d.pauseCount === 0 && v.blocked) this.wake(v);
    }
  }

  /**
   * Shuts the domain down (Xen's domain_shutdown): a code latched by SCHEDOP_shutdown_code
   * replaces the reason; the vCPUs stop; the toolstack hears of it at the next flushEvents.
   * A second shutdown changes nothing.
   */
  shutdown(d: GuestDomain, reason: number): void {
    if (d.shutdownCode === null) d.shutdownCode = reason & 0xff;
    if (d.shutdownReason !== null || d.destroyed) return;
    d.shutdownReason = d.shutdownCode;
    for (const v of d.vcpuList) this.sync(v);
    log(`domain ${d.id} (${d.name}) shut down: ${shutdownReasonName(d.shutdownReason)}` +
      (d.shutdownReason !== reason ? ` (latched code ${d.shutdownReason}; requested ${shutdownReasonName(reason)})` : ''));
    this.queued.push({ d, reason: d.shutdownReason });
    const waiters = d.waiters.splice(0);
    for (const w of waiters) w(d);
  }

  /** Crashes the domain (Xen's domain_crash): logs the vCPU's registers, then shuts it down with reason crash. */
  crash(d: GuestDomain, v: Vcpu, why: string, shimLoggedRegisters = false): void {
    if (d.shutdownReason !== null || d.destroyed) return;
    d.crashWhy = why;
    // After RUN_CRASH the shim has already logged the registers (with the instruction bytes
    // and the vendor's control block): add only the headline with the domain's name.
    const report = crashReport(d.id, d.name, v, why);
    for (const line of shimLoggedRegisters ? report.slice(0, 1) : report) log(line);
    this.shutdown(d, SHUTDOWN_CRASH);
  }

  /** Delivers queued shutdown notifications to the listeners (called between guest slices). */
  flushEvents(): void {
    while (this.queued.length) {
      const { d, reason } = this.queued.shift() as { d: GuestDomain; reason: number };
      if (d.destroyed) continue;
      for (const l of this.listeners.slice()) {
        try {
          l.shutdown?.(d, reason);
        } catch (e) {
          log(`domain ${d.id}: shutdown handler failed: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    }
  }

  /** Destroys a domain: every frame it held goes back to the host, exactly. */
  destroy(d: GuestDomain): void {
    if (d.destroyed) return;
    d.dying = true;
    let failure: unknown = null;
    try {
      this.sched.removeDomain(d.id);
    } catch (e) {
      failure = e;
    }
    try {
      this.shimOf().domainDestroy(d.handle);
    } catch (e) {
      failure = failure ?? e;
    }
    try {
      d.memory.destroy();
    } catch (e) {
      failure = failure ?? e;
    }
    d.console.flush();
    this.table.remove(d.id);
    this.guestsById.delete(d.id);
    d.destroyed = true;
    d.dying = false;
    for (const v of d.vcpuList) v.sched = null;
    const waiters = d.waiters.splice(0);
    for (const w of waiters) w(d);
    for (const l of this.listeners.slice()) {
      try {
        l.destroyed?.(d);
      } catch (e) {
        log(`domain ${d.id}: destroy handler failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (failure) log(`domain ${d.id}: destroy: ${failure instanceof Error ? failure.message : String(failure)}`);
  }

  /** Charges CPU time to a vCPU that ran (the scheduler's accounting and the domain's). */
  charge(v: Vcpu, ranNs: number): void {
    v.cpuNs += ranNs;
    this.guestCpuNs += ranNs;
    if (v.sched) this.sched.charge(v.sched, ranNs);
  }

  /** The vCPU waits for an event (HLT with interrupts on, SCHEDOP_block). */
  block(v: Vcpu): void {
    v.blocked = true;
    if (v.sched) this.sched.block(v.sched);
  }

  /** Ends a vCPU's wait. */
  wake(v: Vcpu): void {
    if (!v.blocked) return;
    v.blocked = false;
    if (v.sched) this.sched.wake(v.sched, this.now());
  }

  /**
   * HLT with interrupts off and nothing pending: the vCPU can never run again, so it goes
   * down; when none is left online the domain powers off (Xen's hvm_vcpu_down).
   */
  vcpuDown(d: GuestDomain, v: Vcpu): void {
    v.online = false;
    v.blocked = false;
    if (v.sched) this.sched.setOnline(v.sched, false);
    log(`domain ${d.id} vcpu ${v.id}: HLT with interrupts disabled: vCPU down`);
    if (d.vcpus() === 0) {
      log(`domain ${d.id}: all vCPUs offline -- powering off`);
      this.shutdown(d, SHUTDOWN_POWEROFF);
    }
  }

  /** VCPUOP_up: an initialised vCPU goes online and runnable (nothing happens when it is up already). */
  vcpuUp(d: GuestDomain, v: Vcpu): void {
    if (v.online || !v.initialised) return;
    v.online = true;
    v.blocked = false;
    if (v.sched) {
      this.sched.setOnline(v.sched, true);
      // A vCPU that went down while blocked may still be blocked in the scheduler's eyes.
      this.sched.wake(v.sched, this.now());
    }
    this.sync(v);
    log(`domain ${d.id} vcpu ${v.id}: up`);
  }

  /**
   * VCPUOP_down: the vCPU stops until VCPUOP_up, keeping its registers. Taking down the last
   * online vCPU instead powers the domain off, as Xen does (common/domain.c).
   */
  vcpuOffline(d: GuestDomain, v: Vcpu): void {
    let others = 0;
    for (const x of d.vcpuList) if (x !== v && x.online) others++;
    if (others === 0) {
      log(`domain ${d.id}: VCPUOP_down of its last online vCPU -- powering off`);
      this.shutdown(d, SHUTDOWN_POWEROFF);
      return;
    }
    if (!v.online) return;
    v.online = false;
    v.blocked = false;
    if (v.sched) this.sched.setOnline(v.sched, false);
    log(`domain ${d.id} vcpu ${v.id}: down`);
  }

  /** Brings the scheduler's view of a vCPU in line with the domain's state. */
  private sync(v: Vcpu): void {
    const d = this.guestsById.get(v.domid);
    if (!v.sched || !d) return;
    if (d.canRun) this.sched.unpause(v.sched);
    else this.sched.pause(v.sched);
  }
}
