// Guest time for a hypervisor: pvclock and runstate refresh around each run, the wall clock, and the VCPUOP timers.
import { STATE, shim as defaultShim, type Shim } from './abi';
import { domainAbi } from './domainAbi';
import { VIRQ_TIMER } from './evtchn/eventChannels';
import { domainServices } from './evtchn/services';
import { VMASST_TYPE_runstate_update_flag } from './hypercalls/vmAssist';
import { copyFromGuest, copyToGuest, GuestFaultError } from './guestPageWalk';
import { GuestMemoryError } from './guestMemory';
import type { GuestDomain } from './guestDomain';
import type { Hypervisor } from './hypervisor';
import {
  newRunstate, RUNSTATE, runstateChange, timeScale, writeRunstate, writeVcpuTimeInfo, writeWallClock,
  VCPU_INFO_TIME_OFFSET, type GuestBytes, type RunstateInfo, type TimeScale,
} from './pvclock';
import type { Vcpu } from './vcpu';

/** Xen refuses periodic timers faster than 1 ms (VCPUOP_set_periodic_timer). */
export const MIN_PERIOD_NS = 1000000;

/** One vCPU's time state. Deadlines are in the domain's system time (ns since its creation). */
export interface VcpuTime {
  /** The state page's timer base was written (the shim's single-shot fast path needs it). */
  baseWritten: boolean;
  /** The periodic timer's period and next expiry, or null when stopped. */
  periodNs: number | null;
  periodicNextNs: number;
  /** Guest-linear addresses of the registered runstate and time areas (0: none). */
  runstateGla: number;
  timeAreaGla: number;
  runstate: RunstateInfo;
  /** Host monotonic ns of the last pvclock write (-Infinity: write at the next entry). */
  clockWrittenAt: number;
  /** Host monotonic ns at which the vCPU last left the guest still runnable (NaN: not pending). */
  leftRunnableAt: number;
}

/**
 * How often an entered vCPU's pvclock is rewritten. Xen refreshes it on context switches and
 * from its once-a-second time calibration; here system time and the pvclock are both exact
 * functions of the same TSC, so one refresh a second keeps the guest's clock within
 * nanoseconds of NOW() while costing nothing on the exit path.
 */
export const PVCLOCK_REFRESH_NS = 1e9;

const W_SINGLESHOT = STATE.singleshotNs / 4;
const W_TIMER_BASE = STATE.timerBaseNs / 4;
const TWO32 = 4294967296;

/**
 * The single-shot timer lives in the vCPU's state page, where the shim's fast path for
 * VCPUOP_set_singleshot_timer writes it: all-ones when stopped.
 */
function singleshotWord(v: Vcpu): number | null {
  const lo = v.words[W_SINGLESHOT];
  const hi = v.words[W_SINGLESHOT + 1];
  if (lo === 0xffffffff && hi === 0xffffffff) return null;
  // A deadline beyond 2^53 ns (285 years) never comes: treat it as stopped.
  return hi >= 0x200000 ? null : hi * TWO32 + lo;
}

function setSingleshotWord(v: Vcpu, ns: number | null): void {
  if (ns === null) {
    v.words[W_SINGLESHOT] = 0xffffffff;
    v.words[W_SINGLESHOT + 1] = 0xffffffff;
  } else setU64Word(v, W_SINGLESHOT, ns);
}

function setU64Word(v: Vcpu, w: number, value: number): void {
  const n = Math.max(0, Math.floor(value));
  v.words[w] = n % TWO32;
  v.words[w + 1] = Math.floor(n / TWO32);
}

/** Bytes of a host frame view as GuestBytes (addresses are offsets into the view). */
function viewBytes(view: Uint8Array): GuestBytes {
  return {
    read: (a, n) => view.slice(a, a + n),
    write: (a, b) => view.set(b, a),
  };
}

/** Guest-linear memory seen through a vCPU's own page tables. */
function linearBytes(d: GuestDomain, v: Vcpu): GuestBytes {
  const regs = v.pagingRegs();
  return {
    read: (a, n) => copyFromGuest(d.memory, regs, a, n),
    write: (a, b) => copyToGuest(d.memory, regs, a, b),
  };
}

/** Runs a write to a guest area; false when it faults (the guest unmapped it), which Xen ignores too. */
function tryWrite(write: () => void): boolean {
  try {
    write();
    return true;
  } catch (e) {
    if (e instanceof GuestFaultError || e instanceof GuestMemoryError) return false;
    throw e;
  }
}

/** The time service of one hypervisor. */
export class GuestTime {
  private readonly vcpus = new WeakMap<Vcpu, VcpuTime>();
  private readonly wallclockDone = new WeakSet<GuestDomain>();
  /** The vCPU entered last (one physical CPU runs them all), whose running state may be pending. */
  private lastRun: { d: GuestDomain; v: Vcpu } | null = null;
  private scaleCache: TimeScale | null = null;

  constructor(private readonly hv: Hypervisor, private readonly shimOf: () => Shim = defaultShim) {}

  /** The vCPU's time state, created on first use. */
  state(v: Vcpu): VcpuTime {
    let t = this.vcpus.get(v);
    if (!t) {
      t = {
        baseWritten: false, periodNs: null, periodicNextNs: 0, runstateGla: 0, timeAreaGla: 0,
        runstate: newRunstate(RUNSTATE.runnable, 0n), clockWrittenAt: -Infinity, leftRunnableAt: NaN,
      };
      this.vcpus.set(v, t);
      setSingleshotWord(v, null);
    }
    return t;
  }

  /** The domain's system time now: ns since it was created (Xen's NOW() for the guest). */
  systemNs(d: GuestDomain): number {
    return Math.max(0, this.shimOf().monotonicNs() - d.createdNs);
  }

  /** The host TSC's scale (from the boot-time calibration). */
  scale(): TimeScale {
    if (!this.scaleCache) this.scaleCache = timeScale(Math.round(this.shimOf().bootInfo().tscHz));
    return this.scaleCache;
  }

  /**
   * Called each time the run loop enters the vCPU: marks it running in its runstate area
   * (unless it never stopped: see afterRun) and refreshes its pvclock once a second
   * (PVCLOCK_REFRESH_NS). Entering a different vCPU first ends the running state of the one
   * that ran before, from the moment it left the guest.
   */
  beforeRun(d: GuestDomain, v: Vcpu): void {
    const t = this.state(v);
    if (!t.baseWritten) {
      setU64Word(v, W_TIMER_BASE, d.createdNs);
      t.baseWritten = true;
    }
    const last = this.lastRun;
    if (last && last.v !== v) this.settleRunnable(last.d, last.v);
    this.lastRun = { d, v };
    if (t.runstate.state === RUNSTATE.running) t.leftRunnableAt = NaN;
    else this.setRunstate(d, v, RUNSTATE.running);
    if (this.shimOf().monotonicNs() - t.clockWrittenAt >= PVCLOCK_REFRESH_NS) this.refreshClock(d, v);
  }

  /**
   * Writes the vCPU's pvclock now (in its vcpu_info and its registered time area) and the
   * wall clock once per domain. TSC_STABLE is never set: zazen does not know the TSC is
   * synchronised, and without the bit Linux keeps its clock monotonic itself.
   */
  refreshClock(d: GuestDomain, v: Vcpu): void {
    const s = this.shimOf();
    const ge = domainServices(this.hv).guestEvents(d.id);
    if (!ge) return;
    const t = this.state(v);
    t.clockWrittenAt = s.monotonicNs();
    const now = this.systemNs(d);
    const sample = {
      tscTimestamp: BigInt.asUintN(64, s.readTsc() + v.reg('tscOffset')),
      systemTimeNs: BigInt(Math.floor(now)),
      scale: this.scale(),
      tscStable: false,
    };
    const info = ge.vcpuInfo(v.id);
    if (info) writeVcpuTimeInfo(viewBytes(info), VCPU_INFO_TIME_OFFSET, sample);
    if (!this.wallclockDone.has(d)) {
      this.wallclockDone.add(d);
      writeWallClock(viewBytes(ge.sharedInfo()), 0, BigInt(Math.round(d.createdMs)) * 1000000n);
    }
    if (t.timeAreaGla !== 0) tryWrite(() => writeVcpuTimeInfo(linearBytes(d, v), t.timeAreaGla, sample));
  }

  /**
   * Records that the vCPU left the guest: blocked or offline at once; still runnable only
   * once another vCPU runs (beforeRun), because Xen too counts the time it spends handling a
   * vCPU's timer or hypercall as that vCPU's running time, and a vCPU that is entered again
   * straight away never stopped running.
   */
  afterRun(d: GuestDomain, v: Vcpu): void {
    if (!v.online || v.blocked) {
      this.setRunstate(d, v, !v.online ? RUNSTATE.offline : RUNSTATE.blocked);
      return;
    }
    const t = this.state(v);
    if (t.runstate.state === RUNSTATE.running) t.leftRunnableAt = this.shimOf().monotonicNs();
  }

  /** Ends a pending running state: the vCPU has been runnable since it left the guest. */
  private settleRunnable(d: GuestDomain, v: Vcpu): void {
    const t = this.state(v);
    if (Number.isNaN(t.leftRunnableAt) || t.runstate.state !== RUNSTATE.running) return;
    const at = Math.max(0, t.leftRunnableAt - d.createdNs);
    t.leftRunnableAt = NaN;
    if (d.destroyed) return;
    runstateChange(t.runstate, RUNSTATE.runnable, BigInt(Math.floor(at)));
    if (t.runstateGla !== 0) this.writeRunstateArea(d, v);
  }

  /** Registers (gla != 0) or clears the runstate area and writes it at once; false when the write faults. */
  registerRunstate(d: GuestDomain, v: Vcpu, gla: number): boolean {
    const t = this.state(v);
    t.runstateGla = gla;
    return gla === 0 || this.writeRunstateArea(d, v);
  }

  /** Registers (gla != 0) or clears the vcpu_time_info area. */
  registerTimeArea(v: Vcpu, gla: number): void {
    this.state(v).timeAreaGla = gla;
  }

  /** Arms the single-shot timer at system time deadlineNs (in the past: it fires at the next check). */
  setSingleshot(v: Vcpu, deadlineNs: number): void {
    this.state(v);
    setSingleshotWord(v, deadlineNs);
  }

  /** Stops the single-shot timer. */
  stopSingleshot(v: Vcpu): void {
    this.state(v);
    setSingleshotWord(v, null);
  }

  /** The single-shot timer's deadline in system time, or null when stopped. */
  singleshot(v: Vcpu): number | null {
    return this.vcpus.has(v) ? singleshotWord(v) : null;
  }

  /** Starts the periodic timer (first expiry one period from now) or stops it (null). */
  setPeriodic(d: GuestDomain, v: Vcpu, periodNs: number | null): void {
    const t = this.state(v);
    t.periodNs = periodNs;
    if (periodNs !== null) t.periodicNextNs = this.systemNs(d) + periodNs;
  }

  /** The vCPU's earliest armed timer in monotonic ns, or Infinity. */
  vcpuDeadline(d: GuestDomain, v: Vcpu): number {
    const t = this.vcpus.get(v);
    if (!t || !v.online) return Infinity;
    let at = Infinity;
    const shot = singleshotWord(v);
    if (shot !== null) at = shot;
    if (t.periodNs !== null && t.periodicNextNs < at) at = t.periodicNextNs;
    return at === Infinity ? at : d.createdNs + at;
  }

  /** The earliest armed timer of any live domain, in monotonic ns, or Infinity. */
  nextDeadline(): number {
    let at = Infinity;
    for (const d of this.hv.guests()) {
      if (!d.canRun) continue;
      for (const v of d.vcpuList) at = Math.min(at, this.vcpuDeadline(d, v));
    }
    return at;
  }

  /**
   * Fires every expired timer: VIRQ_TIMER on the vCPU's bound port, which marks the event
   * and wakes a blocked vCPU through the upcall. Periodic timers skip missed periods.
   */
  fireDue(): void {
    const ev = domainServices(this.hv).evtchn;
    for (const d of this.hv.guests()) {
      if (!d.canRun) continue;
      const now = this.systemNs(d);
      for (const v of d.vcpuList) {
        const t = this.vcpus.get(v);
        if (!t || !v.online) continue;
        let fire = false;
        const shot = singleshotWord(v);
        if (shot !== null && shot <= now) {
          setSingleshotWord(v, null);
          fire = true;
        }
        if (t.periodNs !== null && t.periodicNextNs <= now) {
          const missed = Math.floor((now - t.periodicNextNs) / t.periodNs) + 1;
          t.periodicNextNs += missed * t.periodNs;
          fire = true;
        }
        if (fire) ev.raiseVirq(d.id, VIRQ_TIMER, v.id);
      }
    }
  }

  private setRunstate(d: GuestDomain, v: Vcpu, state: number): void {
    const t = this.state(v);
    t.leftRunnableAt = NaN;
    if (t.runstate.state === state) return;
    runstateChange(t.runstate, state, BigInt(Math.floor(this.systemNs(d))));
    if (t.runstateGla !== 0) this.writeRunstateArea(d, v);
  }

  private writeRunstateArea(d: GuestDomain, v: Vcpu): boolean {
    const t = this.state(v);
    const flag = (domainAbi(d).vmAssist & (1 << VMASST_TYPE_runstate_update_flag)) !== 0;
    return tryWrite(() => writeRunstate(linearBytes(d, v), t.runstateGla, t.runstate, flag));
  }
}

const all = new WeakMap<Hypervisor, GuestTime>();

/** The time service of hv, created on first call. */
export function guestTime(hv: Hypervisor, shimOf?: () => Shim): GuestTime {
  let t = all.get(hv);
  if (!t) {
    t = new GuestTime(hv, shimOf);
    all.set(hv, t);
  }
  return t;
}
