// The interrupt glue: the event-channel callback vector injected level-like at entry, IF and HLT handling, wake-ups.
import { afterEach, describe, expect, test } from '@jest/globals';
import { setShim, STATE } from '../../src/hv/abi';
import { domainAbi } from '../../src/hv/domainAbi';
import { VIRQ_DEBUG } from '../../src/hv/evtchn/eventChannels';
import { domainServices } from '../../src/hv/evtchn/services';
import type { GuestDomain } from '../../src/hv/guestDomain';
import { buildMsrPolicy, msrTable } from '../../src/hv/msrPolicy';
import { domainInterrupts } from '../../src/hv/interrupts';
import { lapicMsrEntries } from '../../src/hv/vlapic';
import { compute, halt, hypercall, msrAccess, type Step } from '../fakeVirt';
import { harness, type Harness } from './guestHarness';

afterEach(() => setShim(undefined));

const MS = 1e6;
const LINUX_CALLBACK = (2n << 56n) | 0xf3n;

/** A domain whose guest asked for callback vector 0xF3 and bound VIRQ_DEBUG; returns the port. */
function setup(h: Harness): { d: GuestDomain; port: number } {
  const d = h.create();
  domainAbi(d).params[0] = LINUX_CALLBACK;
  const port = domainServices(h.hv).evtchn.bindVirq(d.id, VIRQ_DEBUG, 0);
  return { d, port };
}

/** Sets or clears RFLAGS.IF in the vCPU's state page. */
function setIf(h: Harness, d: GuestDomain, on: boolean): void {
  const v = h.vcpu(d);
  v.set64(STATE.rflags, on ? 0x202n : 0x2n);
}

/** The vectors injected at each entry so far (null: none). */
const injected = (h: Harness, d: GuestDomain): (number | null)[] => h.vcpu(d).entries.map((e) => (e.inject ? e.inject.vector : null));

describe('callback vector injection', () => {
  test('an event injects 0xF3 while evtchn_upcall_pending stays set, and stops once the guest clears it', () => {
    const h = harness();
    const { d, port } = setup(h);
    setIf(h, d, true);
    const v = h.vcpu(d);
    v.queue(compute(MS), halt());
    h.loop.run();
    expect(injected(h, d)).toEqual([null]);
    expect(domainServices(h.hv).evtchn.raiseVirq(d.id, VIRQ_DEBUG, 0)).toBe(true);
    expect(port).toBeGreaterThan(0);
    // The halted vCPU was woken by the upcall; each entry while the byte stays set injects
    // again (each forwarded hypercall is an exit and an entry); once the guest's handler clears
    // evtchn_upcall_pending, entries inject nothing and HLT blocks.
    const isUp = hypercall(24, [3, 0, 0]);
    const handler: Step = (ctx) => {
      expect(ctx.vcpu.page.getUint32(STATE.injectType, true)).toBe(0);
      domainServices(h.hv).guestEvents(d.id)!.vcpuInfo(0)![0] = 0;
      return null;
    };
    v.queue(isUp, isUp, handler, isUp, halt());
    h.loop.run();
    expect(injected(h, d)).toEqual([null, 0xf3, 0xf3, 0xf3, null]);
    expect(d.vcpuList[0].blocked).toBe(true);
  });

  test('with interrupts off nothing is injected and an interrupt window is asked for', () => {
    const h = harness();
    const { d } = setup(h);
    setIf(h, d, false);
    domainServices(h.hv).evtchn.raiseVirq(d.id, VIRQ_DEBUG, 0);
    const v = h.vcpu(d);
    // The fake's idle HLT ignores injections, unlike the shim: let it spin instead.
    v.idle = 'spin';
    v.queue(compute(MS));
    h.loop.run();
    expect(injected(h, d)[0]).toBeNull();
    expect(v.page.getUint32(STATE.irqWindowWanted, true)).toBe(1);
  });

  test('without a callback vector events are only marked: nothing is injected and HLT blocks', () => {
    const h = harness();
    const d = h.create();
    domainServices(h.hv).evtchn.bindVirq(d.id, VIRQ_DEBUG, 0);
    setIf(h, d, true);
    domainServices(h.hv).evtchn.raiseVirq(d.id, VIRQ_DEBUG, 0);
    expect(domainServices(h.hv).guestEvents(d.id)!.vcpuInfo(0)![0]).toBe(1);
    h.vcpu(d).queue(halt());
    h.loop.run();
    expect(injected(h, d).every((x) => x === null)).toBe(true);
    expect(d.vcpuList[0].blocked).toBe(true);
  });
});

describe('vLAPIC through the exit path', () => {
  test('x2APIC MSR writes program the LAPIC timer; its expiry wakes the halted vCPU and injects the vector', () => {
    const h = harness();
    const d = h.create();
    // The Linux profile's MSR policy: the fixed APIC_BASE row replaced by the forwarded LAPIC MSRs.
    const policy = buildMsrPolicy().filter((e) => e.msr !== 0x1b).concat(lapicMsrEntries());
    h.fake.domainSetMsrs(d.handle, msrTable(policy));
    setIf(h, d, true);
    const v = h.vcpu(d);
    const t0 = h.fake.nowNs;
    v.queue(
      msrAccess(0x80f, true, 0x1ffn), // SVR: software-enable
      msrAccess(0x83e, true, 0xbn), // TDCR: divide by 1
      msrAccess(0x832, true, 0xecn), // LVT timer: vector 0xEC, one-shot
      msrAccess(0x838, true, 1000000n), // TMICT: 1 ms at 1 GHz
      halt(),
    );
    // Nothing runnable: the loop comes back at the LAPIC timer's expiry.
    expect(h.loop.run()).toBe(t0 + MS);
    expect(d.vcpuList[0].blocked).toBe(true);
    h.fake.advance(1);
    const n = v.entries.length;
    v.queue(msrAccess(0x80b, true, 0n), halt()); // EOI
    h.loop.run();
    expect(injected(h, d).slice(n)[0]).toBe(0xec);
    const lapic = domainInterrupts(h.hv, d).lapics[0];
    expect(Array.from(lapic.isr).every((w) => w === 0)).toBe(true);
    expect(Array.from(lapic.irr).every((w) => w === 0)).toBe(true);
    expect(d.vcpuList[0].blocked).toBe(true);
    expect(h.loop.run()).toBe(-1);
  });

  test('a reserved LAPIC register write gets #GP, not a crash', () => {
    const h = harness();
    const d = h.create();
    h.fake.domainSetMsrs(d.handle, msrTable(buildMsrPolicy().filter((e) => e.msr !== 0x1b).concat(lapicMsrEntries())));
    const v = h.vcpu(d);
    // Writing the read-only version register.
    v.queue(msrAccess(0x803, true, 1n), halt());
    h.loop.run();
    expect(v.entries[1].inject).toEqual({ type: 3, vector: 13, hasError: 1, error: 0 });
    expect(d.shutdownReason).toBeNull();
  });
});
