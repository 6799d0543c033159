// The run loop with the event loop and credit scheduler: fairness, weights, caps, blocking, crashes, the REPL's turn.
import { afterEach, describe, expect, test } from '@jest/globals';
import { RUN_HOST, setShim } from '../../src/hv/abi';
import { createPollHook } from '../../src/runtime/eventLoop';
import { TimerQueue } from '../../src/runtime/timers';
import { compute, halt, hypercall, portIo, tripleFault } from '../fakeVirt';
import { harness } from './guestHarness';

afterEach(() => setShim(undefined));
const MS = 1e6;

describe('the REPL keeps its turn', () => {
  test('a spinning guest runs for one budget per poll; input and timers are served at every poll', () => {
    const h = harness();
    const d = h.create({ name: 'spin' });
    h.vcpu(d).idle = 'spin';
    const fired: number[] = [];
    const timers = new TimerQueue(() => h.fake.nowNs, (e) => { throw e; });
    timers.add(() => fired.push(h.fake.nowNs), 20, [], false);
    const typed: string[] = [];
    const poll = createPollHook({ timers, readInput: () => h.fake.consoleRead(), onInput: (b) => typed.push(b), onError: (e) => { throw e; }, runGuests: () => h.loop.run() });
    const t0 = h.fake.nowNs;
    const next = poll();
    // One budget of guest time, then back to the shim with "call again now" (the timer is due by then).
    expect(h.fake.nowNs - t0).toBe(50 * MS);
    expect(next).toBeLessThanOrEqual(h.fake.nowNs);
    h.fake.sendInput('1+1\r');
    // The next poll hands the input to the REPL before any guest runs again.
    poll();
    expect(typed).toEqual(['1+1\r']);
    expect(fired).toEqual([50 * MS]);
    expect(d.cpuTimeNs()).toBe(50 * MS + (h.fake.nowNs - t0 - 50 * MS));
  });

  test('console input during a run ends it with RUN_HOST and the poll returns at once', () => {
    const h = harness();
    const d = h.create();
    const v = h.vcpu(d);
    v.idle = 'spin';
    v.queue(compute(5 * MS), () => {
      h.fake.sendInput('x');
      return null;
    });
    const before = h.fake.nowNs;
    expect(h.loop.run()).toBe(h.fake.nowNs);
    expect(h.loop.stats.lastResult).toBe(RUN_HOST);
    expect(h.fake.nowNs - before).toBe(5 * MS);
  });
});

describe('the poll hook', () => {
  test('a failing guest runner is reported and the timers still set the deadline', () => {
    const timers = new TimerQueue(() => 0, (e) => { throw e; });
    timers.add(() => undefined, 5, [], false);
    const errors: unknown[] = [];
    const poll = createPollHook({ timers, readInput: () => '', onInput: () => undefined, onError: (e) => errors.push(e), runGuests: () => { throw new Error('boom'); } });
    expect(poll()).toBe(5 * MS);
    expect(String(errors[0])).toMatch(/boom/);
    const idle = createPollHook({ timers, readInput: () => '', onInput: () => undefined, onError: (e) => errors.push(e), runGuests: () => -1 });
    expect(idle()).toBe(5 * MS);
    const busy = createPollHook({ timers, readInput: () => '', onInput: () => undefined, onError: (e) => errors.push(e), runGuests: () => 2 * MS });
    expect(busy()).toBe(2 * MS);
  });
});

describe('scheduling', () => {
  test('two spinners at weights 256 and 512 share the CPU 1:2; a capped one gets its cap', () => {
    const h = harness();
    const a = h.create({ name: 'a' });
    const b = h.create({ name: 'b', cpu_weight: 512 });
    h.vcpu(a).idle = 'spin';
    h.vcpu(b).idle = 'spin';
    for (let i = 0; i < 60; i++) h.loop.run();
    const ratio = b.cpuTimeNs() / a.cpuTimeNs();
    expect(ratio).toBeGreaterThan(1.8);
    expect(ratio).toBeLessThan(2.2);
    h.xl('sched-credit -d b -c 25');
    const start = [a.cpuTimeNs(), b.cpuTimeNs()];
    for (let i = 0; i < 60; i++) h.loop.run();
    const gotB = b.cpuTimeNs() - start[1];
    const total = gotB + a.cpuTimeNs() - start[0];
    expect(gotB / total).toBeLessThanOrEqual(0.26);
    expect(gotB / total).toBeGreaterThan(0.2);
    expect(h.xl('sched-credit')).toMatch(/^b\s+\d+\s+512\s+25$/m);
  });

  test('CPU time per vCPU and domain shows in xl list and xl vcpu-list', () => {
    const h = harness();
    const d = h.create({ name: 'spin' });
    h.vcpu(d).idle = 'spin';
    for (let i = 0; i < 30; i++) h.loop.run();
    expect(h.xl('list spin')).toMatch(/^spin\s+1\s+4\s+1\s+r-----\s+1\.5$/m);
    expect(h.xl('vcpu-list spin')).toMatch(/^spin\s+1\s+0\s+0\s+r--\s+1\.5  all \/ all$/m);
  });
});

describe('halting and blocking', () => {
  test('HLT with interrupts on blocks until unpause; with nothing runnable the poll says no deadline', () => {
    const h = harness();
    const d = h.create();
    h.vcpu(d).queue(halt(true));
    expect(h.loop.run()).toBe(-1);
    expect(d.vcpuList[0].blocked).toBe(true);
    expect(h.xl('list vm')).toMatch(/-b----/);
    h.hv.pause(d);
    expect(h.xl('list vm')).toMatch(/-bp---/);
    h.hv.unpause(d);
    expect(d.vcpuList[0].blocked).toBe(false);
  });

  test('HLT with interrupts off takes the vCPU down and powers the domain off (on_poweroff destroys it)', () => {
    const h = harness();
    const d = h.create({ name: 'halter' });
    h.vcpu(d).queue(halt(false));
    h.loop.run();
    expect(d.destroyed).toBe(true);
    expect(h.table.byName('halter')).toBeUndefined();
    expect(h.dmesg()).toMatch(/HLT with interrupts disabled: vCPU down/);
    expect(h.dmesg()).toMatch(/all vCPUs offline -- powering off/);
  });
});

describe('crashes', () => {
  test('a triple fault crashes only that domain: registers in dmesg, state c with on_crash=preserve', () => {
    const h = harness();
    const tf = h.create({ name: 'tf', on_crash: 'preserve' });
    const ok = h.create({ name: 'ok' });
    h.vcpu(tf).queue(compute(MS), tripleFault());
    h.vcpu(ok).queue(compute(MS), hypercall(29, [0]), compute(MS), halt());
    h.vcpu(tf).set64(128, 0x1001aan);
    for (let i = 0; i < 3; i++) h.loop.run();
    expect(h.xl('list tf')).toMatch(/^tf\s+1\s+4\s+1\s+---sc-/m);
    expect(ok.vcpuList[0].blocked).toBe(true);
    const log = h.dmesg();
    expect(log).toMatch(/domain 1 \(tf\) vcpu 0 crashed: triple fault/);
    // The shim logs the registers of a RUN_CRASH itself; TypeScript adds only the headline.
    expect(log).not.toMatch(/rip 00000000001001aa rsp/);
    expect(log).toMatch(/action for shutdown reason code 3 is preserve/);
  });

  test('a forwarded port exit with no device model crashes the domain with a clear message; default on_crash destroys', () => {
    const h = harness();
    const d = h.create({ name: 'io' });
    h.vcpu(d).queue(portIo(0x3f8, 1, false));
    h.loop.run();
    expect(d.destroyed).toBe(true);
    expect(h.dmesg()).toMatch(/write of 1 byte\(s\) at I\/O port 0x3f8 forwarded, but no device model serves it/);
    // A crash TypeScript decides on carries its own register dump.
    expect(h.dmesg()).toMatch(/ rip [0-9a-f]{16} rsp [0-9a-f]{16}/);
  });

  test('a state the shim refuses (vcpuRun throws) crashes the domain instead of the loop', () => {
    const h = harness();
    const d = h.create({ name: 'bad', on_crash: 'preserve' });
    d.vcpuList[0].view.setUint32(448, 0x100, true);
    expect(() => h.loop.run()).not.toThrow();
    expect(d.shutdownReason).toBe(3);
    expect(h.dmesg()).toMatch(/vcpuRun failed: .*unknown dirty bits/);
  });
});
