// vcpu_op areas and timers with guestTime: vcpu_info registration, pvclock, wall clock, runstate, VIRQ_TIMER wake-ups.
import { afterEach, describe, expect, test } from '@jest/globals';
import { setShim } from '../../src/hv/abi';
import { domainServices } from '../../src/hv/evtchn/services';
import type { GuestDomain } from '../../src/hv/guestDomain';
import { pvclockRead, timeScale } from '../../src/hv/pvclock';
import { compute, halt, hypercall } from '../fakeVirt';
import { harness, type Harness } from './guestHarness';

afterEach(() => setShim(undefined));

const MS = 1e6;
const ARG = 0x3000;
const AREA = 0x5000;

/** Queues vcpu_op(cmd, vcpu, arg) then a halt on vCPU 0 and runs the loop; returns the signed result. */
function vcpuOp(h: Harness, d: GuestDomain, cmd: number, vcpu: number, arg: number): number {
  const v = h.vcpu(d);
  v.queue(hypercall(24, [cmd, vcpu, arg]), halt());
  if (d.vcpuList[0].blocked) h.hv.wake(d.vcpuList[0]);
  h.loop.run();
  return Number(BigInt.asIntN(64, v.results[v.results.length - 1]));
}

/** Reads the vcpu_time_info at gpa as the guest would see it. */
function timeInfo(d: GuestDomain, gpa: number) {
  const b = d.memory.read(gpa, 32);
  const dv = new DataView(b.buffer);
  return {
    version: dv.getUint32(0, true),
    sample: {
      tscTimestamp: dv.getBigUint64(8, true),
      systemTimeNs: dv.getBigUint64(16, true),
      scale: { mul: dv.getUint32(24, true), shift: dv.getInt8(28) },
      tscStable: (dv.getUint8(29) & 1) !== 0,
    },
  };
}

/** True when port is pending in the domain's shared_info. */
function pending(h: Harness, d: GuestDomain, port: number): boolean {
  const si = domainServices(h.hv).guestEvents(d.id)!.sharedInfo();
  return (si[0x800 + (port >> 3)] & (1 << (port & 7))) !== 0;
}

/** Does what a guest's upcall handler does: clears the port's pending bit, the selector and evtchn_upcall_pending. */
function guestAck(h: Harness, d: GuestDomain, port: number): void {
  const ge = domainServices(h.hv).guestEvents(d.id)!;
  ge.sharedInfo()[0x800 + (port >> 3)] &= ~(1 << (port & 7));
  ge.vcpuInfo(0)!.fill(0, 0, 16);
}

describe('vcpu_op register_vcpu_info and the pvclock', () => {
  test('moves vcpu_info to the guest frame and keeps a pvclock there that reads the domain\'s system time', () => {
    const h = harness({ tscHz: 1e9 });
    h.fake.advance(7);
    const d = h.create({ vcpus: 2 });
    h.fake.advance(3);
    d.memory.zero(ARG, 16);
    d.memory.writeU64(ARG, 0x10);
    d.memory.writeU32(ARG + 8, 0x40);
    expect(vcpuOp(h, d, 10, 0, ARG)).toBe(0);
    const ti = timeInfo(d, 0x10040 + 32);
    expect(ti.version % 2).toBe(0);
    expect(ti.version).toBeGreaterThan(0);
    expect(ti.sample.scale).toEqual(timeScale(1e9));
    expect(ti.sample.tscStable).toBe(false);
    // The fake TSC runs at 1 GHz: the guest's computed time is exactly the time since creation.
    h.fake.advance(4);
    const tsc = h.fake.readTsc() + d.vcpuList[0].reg('tscOffset');
    expect(pvclockRead(ti.sample, tsc)).toBe(BigInt(h.fake.nowNs - d.createdNs));
    // The registration marked the upcall so nothing raised before it is lost.
    expect(d.memory.readU8(0x10040)).toBe(1);
    // Once per vCPU; never across a page; no such vCPU.
    expect(vcpuOp(h, d, 10, 0, ARG)).toBe(-22);
    d.memory.writeU32(ARG + 8, 4090);
    expect(vcpuOp(h, d, 10, 1, ARG)).toBe(-22);
    d.memory.writeU64(ARG, 2 ** 45);
    expect(vcpuOp(h, d, 10, 1, ARG)).toBe(-22);
    expect(vcpuOp(h, d, 10, 5, ARG)).toBe(-2);
    expect(vcpuOp(h, d, 10, 1, 0x7fff0000)).toBe(-14);
  });

  test('shared_info gets the pvclock in vcpu_info[0] and the wall clock at system time 0', () => {
    const h = harness({ tscHz: 1e9 });
    const d = h.create();
    h.fake.advance(2);
    h.vcpu(d).queue(halt());
    h.loop.run();
    const si = domainServices(h.hv).guestEvents(d.id)!.sharedInfo();
    const dv = new DataView(si.buffer, si.byteOffset, si.byteLength);
    expect(dv.getBigUint64(32 + 16, true)).toBe(BigInt(h.fake.nowNs - d.createdNs));
    const epochNs = BigInt(Math.round(d.createdMs)) * 1000000n;
    expect(dv.getUint32(3072, true) % 2).toBe(0);
    expect(dv.getUint32(3076, true)).toBe(Number(epochNs / 1000000000n));
    expect(dv.getUint32(3080, true)).toBe(Number(epochNs % 1000000000n));
  });
});

describe('vcpu_op runstate and time areas', () => {
  test('the runstate area says running while the vCPU runs and blocked after HLT, with the time spent', () => {
    const h = harness({ tscHz: 1e9 });
    const d = h.create();
    d.memory.writeU64(ARG, AREA);
    const v = h.vcpu(d);
    v.queue(hypercall(24, [5, 0, ARG]), compute(3 * MS), halt());
    h.loop.run();
    expect(v.results[0]).toBe(0n);
    expect(d.memory.readU32(AREA)).toBe(2);
    expect(d.memory.readU64(AREA + 16)).toBeGreaterThanOrEqual(3 * MS);
    expect(d.memory.readU64(AREA + 8)).toBe(h.fake.nowNs - d.createdNs);
    // A time area gets the same pvclock as vcpu_info.
    d.memory.writeU64(ARG, AREA + 0x100);
    expect(vcpuOp(h, d, 13, 0, ARG)).toBe(0);
    expect(timeInfo(d, AREA + 0x100).sample.scale).toEqual(timeScale(1e9));
    // An unmapped area is -EFAULT at once.
    d.memory.writeU64(ARG, 0x7fff0000);
    expect(vcpuOp(h, d, 5, 0, ARG)).toBe(-14);
  });
});

describe('vcpu_op runstate area at a higher-half address', () => {
  test('a 64-bit kernel registers its area in the direct map (0xffff888...) and it is written through its page tables', () => {
    const h = harness({ tscHz: 1e9 });
    const d = h.create();
    const v = d.vcpuList[0];
    // Long mode with PML4 at 0x8000 and a PDPT at 0x9000 mapping 1 GiB from 0xffff888000000000 onto gpa 0.
    d.memory.zero(0x8000, 0x2000);
    d.memory.writeU64(0x8000 + 0x111 * 8, 0x9000 + 0x3);
    // The same PDPT at PML4 slot 0 identity-maps the hypercall's argument.
    d.memory.writeU64(0x8000, 0x9000 + 0x3);
    d.memory.writeU64(0x9000, 0x83);
    v.setReg('cr3', 0x8000);
    v.setReg('cr4', 0x20);
    v.setReg('efer', 0x1500);
    v.setReg('cr0', 0x80000011);
    // The handle is the u64 0xffff888000000000 + AREA.
    d.memory.writeU32(ARG, AREA);
    d.memory.writeU32(ARG + 4, 0xffff8880);
    d.memory.writeU32(AREA, 0xaa);
    expect(vcpuOp(h, d, 5, 0, ARG)).toBe(0);
    // Written at once: the state field (running 0 ... offline 3) replaced the 0xaa placed there.
    expect(d.memory.readU32(AREA)).toBeLessThanOrEqual(3);
    // A non-canonical handle is -EFAULT.
    d.memory.writeU32(ARG + 4, 0x00ff8880);
    expect(vcpuOp(h, d, 5, 0, ARG)).toBe(-14);
  });
});

describe('vcpu_op timers', () => {
  test('a single-shot timer raises VIRQ_TIMER at its deadline and wakes the halted vCPU', () => {
    const h = harness({ tscHz: 1e9 });
    const d = h.create();
    const port = domainServices(h.hv).evtchn.bindVirq(d.id, 0, 0);
    expect(port).toBeGreaterThan(0);
    const deadline = h.fake.nowNs - d.createdNs + 2 * MS;
    d.memory.zero(ARG, 16);
    d.memory.writeU64(ARG, deadline);
    const v = h.vcpu(d);
    v.queue(hypercall(24, [8, 0, ARG]), halt());
    // Nothing runnable: the loop asks to be called again at the timer's deadline.
    expect(h.loop.run()).toBe(d.createdNs + deadline);
    expect(d.vcpuList[0].blocked).toBe(true);
    expect(pending(h, d, port)).toBe(false);
    h.fake.advance(2);
    const runs = v.runs;
    v.queue(halt());
    h.loop.run();
    expect(pending(h, d, port)).toBe(true);
    expect(v.runs).toBe(runs + 1);
    // Fired once: nothing is armed any more.
    expect(h.loop.run()).toBe(-1);
  });

  test('a timer wake-up that reads a later clock than the loop\'s does not send the scheduler back in time', () => {
    const h = harness({ tscHz: 1e9 });
    const d = h.create();
    domainServices(h.hv).evtchn.bindVirq(d.id, 0, 0);
    d.memory.zero(ARG, 16);
    d.memory.writeU64(ARG, h.fake.nowNs - d.createdNs + 2 * MS);
    const v = h.vcpu(d);
    v.queue(hypercall(24, [8, 0, ARG]), halt());
    h.loop.run();
    expect(d.vcpuList[0].blocked).toBe(true);
    h.fake.advance(2);
    // A real clock moves between reads: the wake-up's reading is later than the loop's first one.
    h.fake.monotonicNs = () => (h.fake.nowNs += 1000);
    v.queue(halt());
    expect(() => h.loop.run()).not.toThrow();
    expect(v.runs).toBeGreaterThanOrEqual(2);
  });

  test('a running vCPU\'s slice ends at its timer; periodic timers repeat; bad requests are refused', () => {
    const h = harness({ tscHz: 1e9 });
    const d = h.create({ vcpus: 2 });
    const port = domainServices(h.hv).evtchn.bindVirq(d.id, 0, 0);
    d.memory.zero(ARG, 16);
    d.memory.writeU64(ARG, h.fake.nowNs - d.createdNs + 2 * MS);
    const v = h.vcpu(d);
    const t0 = h.fake.nowNs;
    v.queue(hypercall(24, [8, 0, ARG]), compute(20 * MS), halt());
    h.loop.run();
    expect(pending(h, d, port)).toBe(true);
    expect(v.results[0]).toBe(0n);
    // The 20 ms computation was cut at the timer's 2 ms deadline, where VIRQ_TIMER went pending.
    expect(h.fake.nowNs - t0).toBe(2 * MS);
    // VCPU_SSHOTTMR_future with a past deadline is -ETIME; another vCPU's single-shot is -EINVAL.
    d.memory.writeU64(ARG, 1);
    d.memory.writeU32(ARG + 8, 1);
    expect(vcpuOp(h, d, 8, 0, ARG)).toBe(-62);
    expect(vcpuOp(h, d, 8, 1, ARG)).toBe(-22);
    expect(vcpuOp(h, d, 9, 1, ARG)).toBe(-22);
    expect(vcpuOp(h, d, 9, 0, ARG)).toBe(0);
    // Periodic: at least 1 ms; the loop's next deadline is one period away; stop clears it.
    d.memory.writeU64(ARG, 500000);
    expect(vcpuOp(h, d, 6, 0, ARG)).toBe(-22);
    d.memory.writeU64(ARG, 10 * MS);
    expect(vcpuOp(h, d, 6, 0, ARG)).toBe(0);
    const at = h.fake.nowNs;
    expect(h.loop.run()).toBe(at + 10 * MS);
    // The guest's handler takes the event: the next one is a fresh upcall that wakes the vCPU.
    guestAck(h, d, port);
    h.fake.advance(25);
    v.queue(halt());
    h.loop.run();
    expect(pending(h, d, port)).toBe(true);
    // Two missed periods collapse into one event; the next expiry stays on the period grid.
    expect(h.loop.run()).toBe(at + 30 * MS);
    expect(vcpuOp(h, d, 7, 0, ARG)).toBe(0);
    expect(h.loop.run()).toBe(-1);
  });
});
