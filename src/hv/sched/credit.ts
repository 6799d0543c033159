// Xen credit1-style scheduling policy: weights, caps, boost on wake; pure and deterministic (time is passed in).
//
// Public API (all times in nanoseconds of one monotonic clock, passed by the caller):
//   const s = new CreditScheduler({pcpus?, tsliceNs?, periodNs?, tickNs?})
//   s.addDomain(domid, {weight?, cap?}) / s.removeDomain(domid)
//   const v = s.addVcpu(domid, vcpuId)          -> SchedVcpu (starts runnable, online)
//   s.block(v) / s.wake(v, now) -> pcpu to kick or -1 / s.pause(v) / s.unpause(v) / s.setOnline(v, on)
//   s.pickNext(now, pcpu?) -> { vcpu, sliceNs } or { vcpu: null, nextWakeNs } (null = wait for an event)
//   s.charge(v, ranNs)                          after v ran (or was cut short); requeues it
//   s.getParams(domid) / s.setParams(domid, {weight?, cap?})   `xl sched-credit` get and set
//   s.domainCpuNs(domid), v.cpuNs               CPU time used
//   formatSchedCredit(rows, s)                  `xl sched-credit` output
//
// Policy, after xen/common/sched/credit.c: each accounting period (30 ms) hands out
// period x pcpus nanoseconds of credit to the domains with active vCPUs (runnable, or ran
// in the last period) in proportion to weight x active vCPUs, at most one CPU per vCPU
// (the rest is shared out among the others) and at most cap% of one CPU per domain.
// Credit is clamped to one period so idle domains cannot hoard it. Priority: BOOST (a
// vCPU woken from blocked while it had credit; it keeps BOOST for one tick of running),
// then UNDER (credit >= 0), then OVER; FIFO within a priority. Slices are 30 ms (10 ms
// while boosted). Caps are enforced exactly: a capped domain's slices are clipped to what
// is left of cap% of the period and it is parked once that is spent, until the next period
// (credit1 parks only after overshooting). One runqueue serves every pcpu.

export type Priority = 'boost' | 'under' | 'over';
export type VcpuRunState = 'runnable' | 'running' | 'blocked' | 'paused' | 'offline';

const PRI_RANK: { [p: string]: number } = { boost: 2, under: 1, over: 0 };

export interface SchedVcpu {
  readonly domid: number;
  readonly id: number;
  /** Remaining credit in nanoseconds of CPU time. */
  readonly credit: number;
  readonly priority: Priority;
  /** CPU time charged to this vCPU. */
  readonly cpuNs: number;
  /** pcpu it is running on, or -1. */
  readonly runningOn: number;
  readonly state: VcpuRunState;
}

interface Vcpu {
  domid: number;
  id: number;
  credit: number;
  priority: Priority;
  cpuNs: number;
  runningOn: number;
  state: VcpuRunState;
  blocked: boolean;
  paused: boolean;
  online: boolean;
  seq: number;
  boostRanNs: number;
  ranThisPeriod: number;
  grantedNs: number;
}

interface Domain {
  domid: number;
  weight: number;
  cap: number;
  vcpus: Vcpu[];
  cpuNs: number;
  usedThisPeriod: number;
  parked: boolean;
}

export interface SchedOptions {
  pcpus?: number;
  tsliceNs?: number;
  periodNs?: number;
  tickNs?: number;
}

export type PickResult = { vcpu: SchedVcpu; sliceNs: number } | { vcpu: null; nextWakeNs: number | null };

export const DEFAULT_WEIGHT = 256;
const MS = 1000000;

function positiveInt(name: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  return v;
}

export class CreditScheduler {
  readonly pcpus: number;
  readonly tsliceNs: number;
  readonly periodNs: number;
  readonly tickNs: number;
  private readonly domains = new Map<number, Domain>();
  private readonly running: (Vcpu | null)[] = [];
  private seq = 0;
  private nextAccounting: number | null = null;
  private lastNow = 0;

  constructor(opts: SchedOptions = {}) {
    this.pcpus = positiveInt('pcpus', opts.pcpus === undefined ? 1 : opts.pcpus);
    this.tsliceNs = positiveInt('tsliceNs', opts.tsliceNs === undefined ? 30 * MS : opts.tsliceNs);
    this.periodNs = positiveInt('periodNs', opts.periodNs === undefined ? 30 * MS : opts.periodNs);
    this.tickNs = positiveInt('tickNs', opts.tickNs === undefined ? 10 * MS : opts.tickNs);
    for (let i = 0; i < this.pcpus; i++) this.running.push(null);
  }

  /** Registers a domain with a weight (default 256) and cap (default 0, none). */
  addDomain(domid: number, params: { weight?: number; cap?: number } = {}): void {
    if (!Number.isInteger(domid) || domid < 0 || domid > 0x7fef) throw new RangeError(`bad domain id ${domid}`);
    if (this.domains.has(domid)) throw new Error(`domain ${domid} is already scheduled`);
    this.domains.set(domid, { domid, weight: DEFAULT_WEIGHT, cap: 0, vcpus: [], cpuNs: 0, usedThisPeriod: 0, parked: false });
    try {
      this.setParams(domid, params);
    } catch (e) {
      this.domains.delete(domid);
      throw e;
    }
  }

  /** Forgets a domain and its vCPUs (a running one stops counting as running). */
  removeDomain(domid: number): void {
    const d = this.domain(domid);
    for (let i = 0; i < this.running.length; i++) if (this.running[i] && this.running[i]!.domid === domid) this.running[i] = null;
    d.vcpus.length = 0;
    this.domains.delete(domid);
  }

  /** Adds vCPU vcpuId to a domain, online and runnable. */
  addVcpu(domid: number, vcpuId: number): SchedVcpu {
    const d = this.domain(domid);
    if (!Number.isInteger(vcpuId) || vcpuId < 0) throw new RangeError(`bad vCPU id ${vcpuId}`);
    if (d.vcpus.some((v) => v.id === vcpuId)) throw new Error(`d${domid}v${vcpuId} already exists`);
    const v: Vcpu = {
      domid, id: vcpuId, credit: 0, priority: 'under', cpuNs: 0, runningOn: -1, state: 'runnable',
      blocked: false, paused: false, online: true, seq: this.seq++, boostRanNs: 0, ranThisPeriod: 0, grantedNs: 0,
    };
    d.vcpus.push(v);
    return v;
  }

  /** Returns a domain's weight and cap. */
  getParams(domid: number): { weight: number; cap: number } {
    const d = this.domain(domid);
    return { weight: d.weight, cap: d.cap };
  }

  /** Sets weight (1-65535) and/or cap (0 to 100 x vCPUs, 0 = none), as `xl sched-credit -w/-c`. */
  setParams(domid: number, params: { weight?: number; cap?: number }): void {
    const d = this.domain(domid);
    const { weight, cap } = params;
    if (weight !== undefined && (!Number.isInteger(weight) || weight < 1 || weight > 65535)) {
      throw new RangeError(`Cpu weight out of range, valid values are within range from 1 to 65535 (got ${weight})`);
    }
    const maxCap = Math.max(1, d.vcpus.length) * 100;
    if (cap !== undefined && (!Number.isInteger(cap) || cap < 0 || cap > maxCap)) {
      throw new RangeError(`Cpu cap out of range, valid range is from 0 to ${maxCap} for specified number of vcpus (got ${cap})`);
    }
    if (weight !== undefined) d.weight = weight;
    if (cap !== undefined) {
      d.cap = cap;
      if (cap === 0) d.parked = false;
    }
  }

  /** CPU time charged to a domain's vCPUs. */
  domainCpuNs(domid: number): number {
    return this.domain(domid).cpuNs;
  }

  /** Marks a vCPU blocked (halted, waiting for an event); it stops being picked. */
  block(v: SchedVcpu): void {
    const x = this.own(v);
    x.blocked = true;
    this.refresh(x);
  }

  /** Wakes a blocked vCPU (event or timer); returns the pcpu that should reschedule now, or -1. */
  wake(v: SchedVcpu, now: number): number {
    const x = this.own(v);
    this.clock(now);
    if (!x.blocked) return -1;
    x.blocked = false;
    // credit1: a vCPU woken while UNDER is boosted so that I/O-bound guests answer quickly.
    if (x.priority === 'under') {
      x.priority = 'boost';
      x.boostRanNs = 0;
    }
    x.seq = this.seq++;
    this.refresh(x);
    if (x.state !== 'runnable' || this.domain(x.domid).parked) return -1;
    const idle = this.running.indexOf(null);
    if (idle >= 0) return idle;
    let victim = -1;
    for (let i = 0; i < this.running.length; i++) {
      const r = this.running[i] as Vcpu;
      if (PRI_RANK[r.priority] < PRI_RANK[x.priority] && (victim < 0 || PRI_RANK[r.priority] < PRI_RANK[(this.running[victim] as Vcpu).priority])) victim = i;
    }
    return victim;
  }

  /** Pauses a vCPU (toolstack pause); it keeps its credit. */
  pause(v: SchedVcpu): void {
    const x = this.own(v);
    x.paused = true;
    this.refresh(x);
  }

  /** Undoes pause. */
  unpause(v: SchedVcpu): void {
    const x = this.own(v);
    if (!x.paused) return;
    x.paused = false;
    x.seq = this.seq++;
    this.refresh(x);
  }

  /** Brings a vCPU online or offline (VCPUOP_up / VCPUOP_down). */
  setOnline(v: SchedVcpu, online: boolean): void {
    const x = this.own(v);
    x.online = online;
    if (online) x.seq = this.seq++;
    this.refresh(x);
  }

  /** Chooses what pcpu runs next and for how long; idle when nothing can run. */
  pickNext(now: number, pcpu = 0): PickResult {
    if (!Number.isInteger(pcpu) || pcpu < 0 || pcpu >= this.pcpus) throw new RangeError(`bad pcpu ${pcpu}`);
    const cur = this.running[pcpu];
    if (cur) throw new Error(`pcpu ${pcpu} still runs d${cur.domid}v${cur.id}: charge it before picking again`);
    this.clock(now);
    this.account(now);
    let best: Vcpu | null = null;
    let bestLeft = Infinity;
    let parkedWaiting = false;
    this.domains.forEach((d) => {
      const left = this.budgetLeft(d);
      for (const v of d.vcpus) {
        if (v.state !== 'runnable') continue;
        if (d.parked || left <= 0) {
          parkedWaiting = true;
          continue;
        }
        if (!best || PRI_RANK[v.priority] > PRI_RANK[best.priority] || (v.priority === best.priority && v.seq < best.seq)) {
          best = v;
          bestLeft = left;
        }
      }
    });
    if (!best) return { vcpu: null, nextWakeNs: parkedWaiting ? (this.nextAccounting as number) : null };
    const v: Vcpu = best;
    const boostLeft = this.tickNs - v.boostRanNs;
    const slice = Math.min(v.priority === 'boost' ? Math.min(this.tsliceNs, boostLeft) : this.tsliceNs, bestLeft);
    v.runningOn = pcpu;
    v.grantedNs = slice;
    this.running[pcpu] = v;
    this.refresh(v);
    return { vcpu: v, sliceNs: slice };
  }

  /** Charges ranNs of CPU time to a vCPU that pickNext chose, and puts it back in the queue. */
  charge(v: SchedVcpu, ranNs: number): void {
    const x = this.own(v);
    if (!Number.isFinite(ranNs) || ranNs < 0) throw new RangeError(`ran time must be a non-negative number of ns, got ${ranNs}`);
    if (x.runningOn < 0) throw new Error(`d${x.domid}v${x.id} is not running: nothing to charge`);
    const d = this.domain(x.domid);
    this.running[x.runningOn] = null;
    x.runningOn = -1;
    x.grantedNs = 0;
    x.credit -= ranNs;
    x.cpuNs += ranNs;
    x.ranThisPeriod += ranNs;
    d.cpuNs += ranNs;
    d.usedThisPeriod += ranNs;
    if (x.priority === 'boost') x.boostRanNs += ranNs;
    if (x.priority !== 'boost' || x.boostRanNs >= this.tickNs || x.credit < 0) x.priority = x.credit >= 0 ? 'under' : 'over';
    if (d.cap > 0 && d.usedThisPeriod >= this.capBudget(d)) d.parked = true;
    x.seq = this.seq++;
    this.refresh(x);
  }

  /** Every scheduled vCPU, in domain order. */
  vcpus(): SchedVcpu[] {
    const out: SchedVcpu[] = [];
    this.domains.forEach((d) => {
      for (const v of d.vcpus) out.push(v);
    });
    return out;
  }

  /** What a capped domain may still be granted this period (Infinity when uncapped). */
  private budgetLeft(d: Domain): number {
    if (d.cap === 0) return Infinity;
    let left = this.capBudget(d) - d.usedThisPeriod;
    for (const r of this.running) if (r && r.domid === d.domid) left -= r.grantedNs;
    return left;
  }

  private capBudget(d: Domain): number {
    return (d.cap * this.periodNs) / 100;
  }

  private domain(domid: number): Domain {
    const d = this.domains.get(domid);
    if (!d) throw new RangeError(`domain ${domid} is not known to the scheduler`);
    return d;
  }

  private own(v: SchedVcpu): Vcpu {
    const d = this.domains.get(v && v.domid);
    const x = d ? d.vcpus.find((y) => y === v) : undefined;
    if (!x) throw new RangeError('not a vCPU of this scheduler');
    return x;
  }

  private clock(now: number): void {
    if (!Number.isFinite(now) || now < 0) throw new RangeError(`bad time ${now}`);
    if (now < this.lastNow) throw new RangeError(`time went backwards: ${now} < ${this.lastNow}`);
    this.lastNow = now;
  }

  private refresh(v: Vcpu): void {
    v.state = !v.online ? 'offline' : v.paused ? 'paused' : v.runningOn >= 0 ? 'running' : v.blocked ? 'blocked' : 'runnable';
  }

  /** Runs the accounting for every period boundary passed (at most a few: credit is clamped anyway). */
  private account(now: number): void {
    if (this.nextAccounting === null) this.nextAccounting = now;
    if (now < this.nextAccounting) return;
    const periods = Math.floor((now - this.nextAccounting) / this.periodNs) + 1;
    for (let i = 0; i < Math.min(periods, 3); i++) this.refill();
    this.nextAccounting += periods * this.periodNs;
  }

  private refill(): void {
    const active: { d: Domain; vs: Vcpu[]; share: number; limit: number }[] = [];
    this.domains.forEach((d) => {
      const vs = d.vcpus.filter((v) => v.online && !v.paused && (v.state === 'runnable' || v.state === 'running' || v.ranThisPeriod > 0));
      d.usedThisPeriod = 0;
      d.parked = false;
      for (const v of d.vcpus) v.ranThisPeriod = 0;
      if (vs.length === 0) return;
      // No vCPU can use more than one CPU; a capped domain no more than cap% of one.
      let limit = vs.length * this.periodNs;
      if (d.cap > 0) limit = Math.min(limit, this.capBudget(d));
      active.push({ d, vs, share: 0, limit });
    });
    // Water-filling: share the period by weight; what a saturated domain cannot use goes to the rest.
    let left = this.periodNs * this.pcpus;
    let open = active.slice();
    while (open.length > 0 && left > 1e-6) {
      let weights = 0;
      for (const a of open) weights += a.d.weight * a.vs.length;
      const next: typeof open = [];
      let given = 0;
      for (const a of open) {
        const offer = (left * a.d.weight * a.vs.length) / weights;
        const take = Math.min(offer, a.limit - a.share);
        a.share += take;
        given += take;
        if (a.share < a.limit - 1e-6) next.push(a);
      }
      left -= given;
      if (next.length === open.length) break;
      open = next;
    }
    for (const a of active) {
      const each = a.share / a.vs.length;
      for (const v of a.vs) {
        v.credit = Math.min(v.credit + each, this.periodNs);
        if (v.credit < 0) v.priority = 'over';
        else if (v.priority === 'over') v.priority = 'under';
      }
    }
  }
}

/** `xl sched-credit` output: the pool line, then Name / ID / Weight / Cap per domain. */
export function formatSchedCredit(rows: { name: string; domid: number }[], s: CreditScheduler, pool = 'Pool-0'): string {
  const pad = (t: string, n: number, left: boolean): string => {
    while (t.length < n) t = left ? t + ' ' : ' ' + t;
    return t;
  };
  const lines = [`Cpupool ${pool}: tslice=${Math.round(s.tsliceNs / MS)}ms ratelimit=0us migration-delay=0us`];
  lines.push(`${pad('Name', 33, true)} ${pad('ID', 4, false)} ${pad('Weight', 6, false)} ${pad('Cap', 4, false)}`);
  for (const r of rows) {
    const p = s.getParams(r.domid);
    lines.push(`${pad(r.name, 33, true)} ${pad(String(r.domid), 4, false)} ${pad(String(p.weight), 6, false)} ${pad(String(p.cap), 4, false)}`);
  }
  return lines.join('\n') + '\n';
}
