// Tests for the credit scheduler policy, driven by a deterministic simulated clock.
import { describe, expect, test } from '@jest/globals';
import { CreditScheduler, formatSchedCredit, SchedVcpu } from '../../../src/hv/sched/credit';

const MS = 1000000;
const S = 1000 * MS;

/** Runs every pcpu in lockstep: spinners use their whole slice; behaviour(v, slice, now) may use less. */
function run(s: CreditScheduler, until: number, behaviour?: (v: SchedVcpu, slice: number, now: number) => number, start = 0): number {
  const free = new Array(s.pcpus).fill(start);
  let idle = 0;
  for (;;) {
    let cpu = 0;
    for (let i = 1; i < free.length; i++) if (free[i] < free[cpu]) cpu = i;
    const now = free[cpu];
    if (now >= until) return idle;
    const r = s.pickNext(now, cpu);
    if (!r.vcpu) {
      const next = r.nextWakeNs === null ? until : Math.max(r.nextWakeNs, now + 1);
      const wake = Math.min(next, until, ...free.filter((t, i) => i !== cpu && t > now));
      idle += wake - now;
      free[cpu] = wake;
      continue;
    }
    const ran = Math.min(behaviour ? behaviour(r.vcpu, r.sliceNs, now) : r.sliceNs, until - now);
    free[cpu] = now + ran;
    s.charge(r.vcpu, ran);
  }
}

describe('proportional share', () => {
  test('two spinners at weights 256:512 get 1:2 of one CPU over 3 s', () => {
    const s = new CreditScheduler();
    s.addDomain(1, { weight: 256 });
    s.addDomain(2, { weight: 512 });
    s.addVcpu(1, 0);
    s.addVcpu(2, 0);
    expect(run(s, 3 * S)).toBe(0);
    const a = s.domainCpuNs(1);
    const b = s.domainCpuNs(2);
    expect(a + b).toBe(3 * S);
    expect(b / a).toBeGreaterThan(1.9);
    expect(b / a).toBeLessThan(2.1);
  });

  test('equal weights share evenly, and the result is deterministic', () => {
    const once = (): number[] => {
      const s = new CreditScheduler();
      for (const d of [1, 2, 3]) {
        s.addDomain(d);
        s.addVcpu(d, 0);
      }
      run(s, 3 * S);
      return [1, 2, 3].map((d) => s.domainCpuNs(d));
    };
    const first = once();
    expect(once()).toEqual(first);
    for (const t of first) expect(Math.abs(t - S)).toBeLessThanOrEqual(30 * MS);
  });

  test('two pcpus, three equal spinners: two thirds of a CPU each', () => {
    const s = new CreditScheduler({ pcpus: 2 });
    for (const d of [1, 2, 3]) {
      s.addDomain(d);
      s.addVcpu(d, 0);
    }
    run(s, 3 * S);
    for (const d of [1, 2, 3]) expect(Math.abs(s.domainCpuNs(d) - 2 * S) / (2 * S)).toBeLessThan(0.05);
  });

  test('a vCPU never gets more than one CPU; the spare capacity goes to the others', () => {
    const s = new CreditScheduler({ pcpus: 2 });
    s.addDomain(1, { weight: 65535 });
    s.addVcpu(1, 0);
    s.addDomain(2, { weight: 1 });
    s.addVcpu(2, 0);
    s.addVcpu(2, 1);
    run(s, 3 * S);
    expect(s.domainCpuNs(1)).toBeLessThanOrEqual(3 * S);
    expect(s.domainCpuNs(1)).toBeGreaterThan(2.8 * S);
    expect(s.domainCpuNs(2)).toBeGreaterThan(2.8 * S);
  });
});

describe('caps', () => {
  test('a cap of 25 gives at most 25% even on an otherwise idle CPU', () => {
    const s = new CreditScheduler();
    s.addDomain(1, { cap: 25 });
    const v = s.addVcpu(1, 0);
    const idle = run(s, 3 * S);
    expect(v.cpuNs).toBeLessThanOrEqual(0.25 * 3 * S);
    expect(v.cpuNs).toBeGreaterThan(0.24 * 3 * S);
    expect(idle).toBe(3 * S - v.cpuNs);
  });

  test('a capped domain next to a spinner: at most 25%, the rest to the spinner', () => {
    const s = new CreditScheduler();
    s.addDomain(1, { cap: 25, weight: 1000 });
    s.addVcpu(1, 0);
    s.addDomain(2);
    s.addVcpu(2, 0);
    expect(run(s, 3 * S)).toBe(0);
    expect(s.domainCpuNs(1)).toBeLessThanOrEqual(0.25 * 3 * S);
    expect(s.domainCpuNs(2)).toBeGreaterThanOrEqual(0.75 * 3 * S);
  });

  test('every 30 ms window respects the cap, including a domain with two vCPUs on two pcpus', () => {
    const s = new CreditScheduler({ pcpus: 2 });
    s.addDomain(1, { cap: 50 });
    s.addVcpu(1, 0);
    s.addVcpu(1, 1);
    const perPeriod = new Map<number, number>();
    run(s, 3 * S, (v, slice, now) => {
      const p = Math.floor(now / (30 * MS));
      perPeriod.set(p, (perPeriod.get(p) || 0) + slice);
      return slice;
    });
    for (const used of perPeriod.values()) expect(used).toBeLessThanOrEqual(0.5 * 30 * MS);
    expect(s.domainCpuNs(1)).toBeGreaterThan(0.49 * 3 * S);
  });

  test('a parked domain makes pickNext report the next accounting time', () => {
    const s = new CreditScheduler();
    s.addDomain(1, { cap: 10 });
    const v = s.addVcpu(1, 0);
    const r = s.pickNext(0);
    expect(r.vcpu).toBe(v);
    if (r.vcpu) expect(r.sliceNs).toBe(3 * MS);
    s.charge(v, 3 * MS);
    expect(s.pickNext(3 * MS)).toEqual({ vcpu: null, nextWakeNs: 30 * MS });
    expect(s.pickNext(30 * MS).vcpu).toBe(v);
  });
});

describe('blocking and waking', () => {
  test('blocked, paused and offline vCPUs never run', () => {
    const s = new CreditScheduler();
    s.addDomain(1);
    const a = s.addVcpu(1, 0);
    const b = s.addVcpu(1, 1);
    const c = s.addVcpu(1, 2);
    const d = s.addVcpu(1, 3);
    s.block(b);
    s.pause(c);
    s.setOnline(d, false);
    expect([b.state, c.state, d.state]).toEqual(['blocked', 'paused', 'offline']);
    run(s, S);
    expect(a.cpuNs).toBe(S);
    expect([b.cpuNs, c.cpuNs, d.cpuNs]).toEqual([0, 0, 0]);
    s.unpause(c);
    s.setOnline(d, true);
    run(s, 2 * S, undefined, S);
    expect(c.cpuNs).toBeGreaterThan(0.3 * S);
    expect(d.cpuNs).toBeGreaterThan(0.3 * S);
    expect(b.cpuNs).toBe(0);
  });

  test('nothing runnable: idle with no wake-up time', () => {
    const s = new CreditScheduler();
    s.addDomain(1);
    s.block(s.addVcpu(1, 0));
    expect(s.pickNext(5 * MS)).toEqual({ vcpu: null, nextWakeNs: null });
  });

  test('a woken vCPU preempts a spinner, runs boosted, then drops back', () => {
    const s = new CreditScheduler();
    s.addDomain(1);
    s.addDomain(2);
    const spinner = s.addVcpu(1, 0);
    const io = s.addVcpu(2, 0);
    s.block(io);
    const first = s.pickNext(0);
    expect(first.vcpu).toBe(spinner);
    // The event arrives 4 ms into the spinner's slice: pcpu 0 must reschedule.
    expect(s.wake(io, 4 * MS)).toBe(0);
    expect(io.priority).toBe('boost');
    s.charge(spinner, 4 * MS);
    const next = s.pickNext(4 * MS);
    expect(next.vcpu).toBe(io);
    if (next.vcpu) expect(next.sliceNs).toBe(10 * MS);
    s.charge(io, 10 * MS);
    // One tick of boosted running is all it gets; it had no credit (it was blocked at accounting).
    expect(io.priority).toBe('over');
    s.block(io);
    expect(s.pickNext(14 * MS).vcpu).toBe(spinner);
    // Out of credit, a wake-up earns no boost and does not preempt a spinner that has credit.
    expect(s.wake(io, 15 * MS)).toBe(-1);
    expect(io.priority).toBe('over');
  });

  test('after the first period, an I/O-bound vCPU next to a spinner runs as soon as it wakes', () => {
    const s = new CreditScheduler();
    s.addDomain(1);
    s.addDomain(2);
    const spinner = s.addVcpu(1, 0);
    const io = s.addVcpu(2, 0);
    let now = 0;
    let wakeAt = 0;
    let worst = 0;
    let wakes = 0;
    s.block(io);
    while (now < 3 * S) {
      const r = s.pickNext(now);
      if (!r.vcpu) throw new Error('the spinner is always runnable');
      if (r.vcpu === io) {
        // Its first wake-ups may wait: it starts with no credit, as in credit1.
        if (wakeAt >= 60 * MS) worst = Math.max(worst, now - wakeAt);
        s.charge(io, MS);
        now += MS;
        s.block(io);
        wakeAt = now + 9 * MS;
        continue;
      }
      // The spinner runs until the I/O vCPU's next event, which cuts its slice short.
      const end = io.state === 'blocked' && wakeAt < now + r.sliceNs ? Math.max(wakeAt, now) : now + r.sliceNs;
      s.charge(spinner, end - now);
      now = end;
      if (io.state === 'blocked' && now >= wakeAt) {
        s.wake(io, now);
        wakes++;
      }
    }
    expect(wakes).toBeGreaterThan(250);
    expect(worst).toBe(0);
    expect(io.cpuNs).toBeGreaterThan(0.09 * 3 * S);
  });

  test('a vCPU out of credit is not boosted on wake', () => {
    const s = new CreditScheduler();
    s.addDomain(1);
    s.addDomain(2);
    const a = s.addVcpu(1, 0);
    const b = s.addVcpu(2, 0);
    run(s, 30 * MS);
    // a ran a whole slice on half a period's credit.
    expect(a.cpuNs).toBe(30 * MS);
    expect(b.cpuNs).toBe(0);
    expect(a.credit).toBe(-15 * MS);
    s.block(a);
    expect(s.wake(a, 30 * MS)).toBe(0);
    expect(a.priority).toBe('over');
    expect(s.pickNext(30 * MS).vcpu).toBe(b);
  });
});

describe('parameters and misuse', () => {
  test('xl sched-credit get and set with libxl\'s validation', () => {
    const s = new CreditScheduler();
    s.addDomain(7);
    s.addVcpu(7, 0);
    s.addVcpu(7, 1);
    expect(s.getParams(7)).toEqual({ weight: 256, cap: 0 });
    s.setParams(7, { weight: 65535, cap: 200 });
    expect(s.getParams(7)).toEqual({ weight: 65535, cap: 200 });
    s.setParams(7, { cap: 0 });
    expect(s.getParams(7)).toEqual({ weight: 65535, cap: 0 });
    expect(() => s.setParams(7, { weight: 0 })).toThrow('Cpu weight out of range, valid values are within range from 1 to 65535 (got 0)');
    expect(() => s.setParams(7, { weight: 65536 })).toThrow(/Cpu weight out of range/);
    expect(() => s.setParams(7, { weight: 1.5 })).toThrow(/Cpu weight out of range/);
    expect(() => s.setParams(7, { cap: 201 })).toThrow('Cpu cap out of range, valid range is from 0 to 200 for specified number of vcpus (got 201)');
    expect(() => s.setParams(7, { cap: -1 })).toThrow(/Cpu cap out of range/);
    expect(s.getParams(7)).toEqual({ weight: 65535, cap: 0 });
    expect(() => s.getParams(8)).toThrow(/domain 8 is not known/);
    expect(() => s.addDomain(9, { weight: 0 })).toThrow(/weight/);
    expect(() => s.getParams(9)).toThrow(/not known/);
  });

  test('contract violations are clear errors', () => {
    const s = new CreditScheduler();
    s.addDomain(1);
    const v = s.addVcpu(1, 0);
    expect(() => s.addDomain(1)).toThrow(/already scheduled/);
    expect(() => s.addVcpu(1, 0)).toThrow(/already exists/);
    expect(() => s.charge(v, 5)).toThrow(/not running/);
    s.pickNext(10);
    expect(() => s.pickNext(20)).toThrow(/still runs d1v0/);
    expect(() => s.charge(v, -5)).toThrow(/non-negative/);
    s.charge(v, 5);
    expect(() => s.pickNext(5)).toThrow(/backwards/);
    expect(() => s.pickNext(20, 1)).toThrow(/bad pcpu/);
    expect(() => new CreditScheduler({ pcpus: 0 })).toThrow(/pcpus/);
    const other = new CreditScheduler();
    other.addDomain(1);
    expect(() => other.block(v)).toThrow(/not a vCPU of this scheduler/);
    s.removeDomain(1);
    expect(() => s.block(v)).toThrow(/not a vCPU/);
    expect(s.pickNext(30)).toEqual({ vcpu: null, nextWakeNs: null });
  });

  test('formatSchedCredit prints xl\'s columns', () => {
    const s = new CreditScheduler();
    s.addDomain(0);
    s.addDomain(3, { weight: 512, cap: 50 });
    s.addVcpu(3, 0);
    expect(formatSchedCredit([{ name: 'Domain-0', domid: 0 }, { name: 'guest', domid: 3 }], s)).toBe(
      'Cpupool Pool-0: tslice=30ms ratelimit=0us migration-delay=0us\n' +
        'Name                                ID Weight  Cap\n' +
        'Domain-0                             0    256    0\n' +
        'guest                                3    512   50\n',
    );
  });
});
