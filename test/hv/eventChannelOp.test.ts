// event_channel_op through the hypercall path: struct layouts in guest memory, DOMID_SELF, errors as Xen gives them.
import { afterEach, describe, expect, test } from '@jest/globals';
import { setShim } from '../../src/hv/abi';
import { domainServices } from '../../src/hv/evtchn/services';
import type { GuestDomain } from '../../src/hv/guestDomain';
import { halt, hypercall } from '../fakeVirt';
import { harness, type Harness } from './guestHarness';

afterEach(() => setShim(undefined));

const DOMID_SELF = 0x7ff0;
const ARG = 0x3000;

/** Writes little-endian fields [offset, size, value] at gpa. */
function put(d: GuestDomain, gpa: number, fields: [number, 2 | 4, number][]): void {
  for (const [off, size, value] of fields) {
    if (size === 2) d.memory.writeU16(gpa + off, value);
    else d.memory.writeU32(gpa + off, value);
  }
}

/** Runs event_channel_op calls (cmd, pointer) on vCPU 0 in order; returns their signed results. */
function evtchnOps(h: Harness, d: GuestDomain, calls: [number, number | bigint][], long64 = true): number[] {
  const v = h.vcpu(d);
  v.queue(...calls.map(([cmd, p]) => hypercall(32, [cmd, p], { long64 })), halt());
  if (d.vcpuList[0].blocked) h.hv.wake(d.vcpuList[0]);
  h.loop.run();
  // One result per re-entry: resuming after the previous run's HLT adds one, so take the last ones.
  return v.results.slice(-calls.length).map((r) => Number(long64 ? BigInt.asIntN(64, r) : BigInt.asIntN(32, r)));
}

/** One call whose argument struct is written first. */
function op(h: Harness, d: GuestDomain, cmd: number, fields: [number, 2 | 4, number][], size = 24): number {
  d.memory.zero(ARG, size);
  put(d, ARG, fields);
  return evtchnOps(h, d, [[cmd, ARG]])[0];
}

describe('event_channel_op', () => {
  test('alloc_unbound, bind_virq, bind_ipi write their port; status describes it; send raises the bit', () => {
    const h = harness();
    const d = h.create();
    expect(op(h, d, 6, [[0, 2, DOMID_SELF], [2, 2, 0]])).toBe(0);
    expect(d.memory.readU32(ARG + 4)).toBe(1);
    expect(op(h, d, 1, [[0, 4, 0], [4, 4, 0]])).toBe(0);
    expect(d.memory.readU32(ARG + 8)).toBe(2);
    expect(op(h, d, 7, [[0, 4, 0]])).toBe(0);
    expect(d.memory.readU32(ARG + 4)).toBe(3);
    // status of the unbound port: EVTCHNSTAT_unbound, vcpu 0, offered to domain 0.
    expect(op(h, d, 5, [[0, 2, d.id], [4, 4, 1], [16, 4, 0xdeadbeef]])).toBe(0);
    expect([d.memory.readU32(ARG + 8), d.memory.readU32(ARG + 12), d.memory.readU32(ARG + 16)]).toEqual([1, 0, 0]);
    // status of the VIRQ port: EVTCHNSTAT_virq with the virq in the union.
    expect(op(h, d, 5, [[0, 2, DOMID_SELF], [4, 4, 2]])).toBe(0);
    expect([d.memory.readU32(ARG + 8), d.memory.readU32(ARG + 16)]).toEqual([4, 0]);
    // send on the IPI port sets evtchn_pending bit 3 in shared_info.
    expect(op(h, d, 4, [[0, 4, 3]])).toBe(0);
    const si = new Uint8Array(h.fake.physView(domainServices(h.hv).guestEvents(d.id)!.sharedInfoAddr, 4096));
    expect(si[0x800]).toBe(0b1000);
    expect(si[0]).toBe(1);
    // unmask, bind_vcpu, close.
    expect(op(h, d, 9, [[0, 4, 3]])).toBe(0);
    expect(op(h, d, 8, [[0, 4, 1], [4, 4, 0]])).toBe(0);
    expect(op(h, d, 3, [[0, 4, 3]])).toBe(0);
    expect(op(h, d, 3, [[0, 4, 3]])).toBe(-22);
  });

  test('interdomain with a backend: the guest binds a port domain 0 offers it, and sends reach the handler', () => {
    const h = harness();
    const d = h.create();
    const s = domainServices(h.hv);
    const bp = s.evtchn.allocUnbound(0, d.id);
    const seen: number[] = [];
    s.backend.setHandler(bp, (p) => seen.push(p));
    expect(op(h, d, 0, [[0, 2, 0], [4, 4, bp]])).toBe(0);
    const gp = d.memory.readU32(ARG + 8);
    expect(gp).toBe(1);
    expect(op(h, d, 4, [[0, 4, gp]])).toBe(0);
    expect(seen).toEqual([bp]);
    // status shows the interdomain peer.
    expect(op(h, d, 5, [[0, 2, DOMID_SELF], [4, 4, gp]])).toBe(0);
    expect([d.memory.readU32(ARG + 8), d.memory.readU16(ARG + 16), d.memory.readU32(ARG + 20)]).toEqual([2, 0, bp]);
    // Binding the same offer twice fails: the port is no longer unbound.
    expect(op(h, d, 0, [[0, 2, 0], [4, 4, bp]])).toBe(-22);
  });

  test('errors: FIFO sub-ops -ENOSYS, bad pointers -EFAULT, other domains -EPERM or -ESRCH, bad ports -EINVAL', () => {
    const h = harness();
    const d = h.create();
    const other = h.create({ name: 'other' });
    expect(evtchnOps(h, d, [[11, ARG], [12, ARG], [13, ARG], [99, ARG], [-1, ARG]])).toEqual([-38, -38, -38, -38, -38]);
    expect(evtchnOps(h, d, [[4, 0x10000000], [4, 0x8000000000000000n]])).toEqual([-14, -14]);
    expect(op(h, d, 6, [[0, 2, other.id], [2, 2, 0]])).toBe(-1);
    expect(op(h, d, 6, [[0, 2, 555], [2, 2, 0]])).toBe(-3);
    expect(op(h, d, 5, [[0, 2, 0], [4, 4, 1]])).toBe(-1);
    expect(op(h, d, 0, [[0, 2, 555], [4, 4, 1]])).toBe(-3);
    expect(op(h, d, 4, [[0, 4, 4096]])).toBe(-22);
    expect(op(h, d, 9, [[0, 4, 0xffffffff]])).toBe(-22);
    expect(op(h, d, 1, [[0, 4, 30], [4, 4, 0]])).toBe(-22);
    expect(op(h, d, 7, [[0, 4, 9]])).toBe(-2);
    expect(op(h, d, 2, [[0, 4, 1]])).toBe(-22);
    // A failed call writes nothing back.
    expect(d.memory.readU32(ARG + 4)).toBe(0);
  });

  test('the 32-bit convention reads the same structs', () => {
    const h = harness();
    const d = h.create();
    d.memory.zero(ARG, 8);
    expect(evtchnOps(h, d, [[7, ARG]], false)).toEqual([0]);
    expect(d.memory.readU32(ARG + 4)).toBe(1);
  });

  test('reset closes every port of the caller', () => {
    const h = harness();
    const d = h.create();
    const s = domainServices(h.hv);
    s.evtchn.bindIpi(d.id, 0);
    s.evtchn.bindVirq(d.id, 0, 0);
    expect(op(h, d, 10, [[0, 2, DOMID_SELF]])).toBe(0);
    expect(s.evtchn.table(d.id)!.openPorts()).toEqual([]);
    expect(op(h, d, 10, [[0, 2, 0]])).toBe(-1);
  });
});
