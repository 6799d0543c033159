// Event channels between guests and zazen's backends: port states, 2-level bits in shared_info, limits, teardown.
import { afterEach, describe, expect, test } from '@jest/globals';
import { setShim } from '../../src/hv/abi';
import { domainServices } from '../../src/hv/evtchn/services';
import type { GuestDomain } from '../../src/hv/guestDomain';
import { halt } from '../fakeVirt';
import { harness, type Harness } from './guestHarness';

afterEach(() => setShim(undefined));

const EINVAL = -22;
const ENOENT = -2;
const ESRCH = -3;
const EEXIST = -17;
const ENOSPC = -28;
const PENDING = 0x800;
const MASK = 0xa00;

/** A machine with one guest of two vCPUs, its services, and upcalls recorded as "domid:vcpu". */
function setup(cfg: Record<string, unknown> = {}) {
  const h = harness();
  const s = domainServices(h.hv);
  const upcalls: string[] = [];
  s.setUpcallHandler((d, v) => upcalls.push(`${d.id}:${v}`));
  const d = h.create({ vcpus: 2, ...cfg });
  return { h, s, d, upcalls, shared: (g: GuestDomain = d) => sharedOf(h, g) };
}

function sharedOf(h: Harness, d: GuestDomain): Uint8Array {
  const ge = domainServices(h.hv).guestEvents(d.id);
  if (!ge) throw new Error('no guest events');
  return new Uint8Array(h.fake.physView(ge.sharedInfoAddr, 4096));
}

const bit = (b: Uint8Array, base: number, n: number): boolean => (b[base + (n >> 3)] & (1 << (n & 7))) !== 0;
const setBit = (b: Uint8Array, base: number, n: number): void => {
  b[base + (n >> 3)] |= 1 << (n & 7);
};
/** vcpu_info of vCPU v inside shared_info: upcall flag at +0, selector u64 at +8. */
const upcall = (b: Uint8Array, v: number): number => b[v * 64];
const sel = (b: Uint8Array, v: number): bigint => new DataView(b.buffer, b.byteOffset + v * 64 + 8, 8).getBigUint64(0, true);

describe('2-level delivery', () => {
  test('ports come from 1; a VIRQ raises its pending bit, the selector bit and the upcall once', () => {
    const { s, d, upcalls, shared } = setup();
    const ev = s.evtchn;
    expect(ev.bindVirq(d.id, 0, 1)).toBe(1);
    expect(ev.bindIpi(d.id, 0)).toBe(2);
    expect(ev.raiseVirq(d.id, 0, 1)).toBe(true);
    const b = shared();
    expect(bit(b, PENDING, 1)).toBe(true);
    expect(sel(b, 1)).toBe(1n);
    expect(upcall(b, 1)).toBe(1);
    expect(upcall(b, 0)).toBe(0);
    expect(upcalls).toEqual([`${d.id}:1`]);
    // Already pending: nothing changes and no second upcall.
    ev.raiseVirq(d.id, 0, 1);
    expect(upcalls.length).toBe(1);
    // Not bound on vCPU 0.
    expect(ev.raiseVirq(d.id, 0, 0)).toBe(false);
  });

  test('a port in a word whose selector bit is set gives no new upcall; a new word does after the guest acks', () => {
    const { s, d, upcalls, shared } = setup();
    const ev = s.evtchn;
    const ports = Array.from({ length: 70 }, () => ev.bindIpi(d.id, 0));
    expect(ports[0]).toBe(1);
    expect(ports[69]).toBe(70);
    ev.send(d.id, 1);
    ev.send(d.id, 2);
    expect(upcalls.length).toBe(1);
    const b = shared();
    expect(b[PENDING]).toBe(0b110);
    // The guest's handler clears upcall_pending and the selector, then port 65 (word 1) fires.
    b[0] = 0;
    b.fill(0, 8, 16);
    ev.send(d.id, 65);
    expect(sel(b, 0)).toBe(2n);
    expect(bit(b, PENDING, 65)).toBe(true);
    expect(upcall(b, 0)).toBe(1);
    expect(upcalls.length).toBe(2);
  });

  test('a masked port stays pending without selector or upcall; unmask delivers it, and only once', () => {
    const { s, d, upcalls, shared } = setup();
    const ev = s.evtchn;
    const p = ev.bindIpi(d.id, 1);
    const b = shared();
    setBit(b, MASK, p);
    expect(ev.send(d.id, p)).toBe(0);
    expect(bit(b, PENDING, p)).toBe(true);
    expect(sel(b, 1)).toBe(0n);
    expect(upcalls).toEqual([]);
    expect(ev.unmask(d.id, p)).toBe(0);
    expect(bit(b, MASK, p)).toBe(false);
    expect(sel(b, 1)).toBe(1n);
    expect(upcall(b, 1)).toBe(1);
    expect(upcalls).toEqual([`${d.id}:1`]);
    expect(ev.unmask(d.id, p)).toBe(0);
    expect(upcalls.length).toBe(1);
    // Unmasking a port that is not pending delivers nothing.
    const q = ev.bindIpi(d.id, 0);
    setBit(b, MASK, q);
    ev.unmask(d.id, q);
    expect(upcall(b, 0)).toBe(0);
  });

  test('VCPUOP_register_vcpu_info moves vcpu_info: contents copied, every selector bit and the upcall set', () => {
    const { s, d, upcalls, shared } = setup();
    const ge = s.guestEvents(d.id)!;
    const b = shared();
    b[64 + 32] = 0x5a; // something in vCPU 1's time area
    ge.registerVcpuInfo(1, 0x7040);
    expect(d.memory.readU8(0x7040 + 32)).toBe(0x5a);
    expect(d.memory.readU8(0x7040)).toBe(1);
    expect(d.memory.readU32(0x7048)).toBe(0xffffffff);
    expect(upcalls).toEqual([`${d.id}:1`]);
    // Later events use the new place.
    d.memory.write(0x7040, new Uint8Array(16));
    const p = s.evtchn.bindIpi(d.id, 1);
    s.evtchn.send(d.id, p);
    expect(d.memory.readU8(0x7040)).toBe(1);
    expect(d.memory.readU32(0x7048)).toBe(1);
    expect(sel(b, 1)).toBe(0n);
    expect(() => ge.registerVcpuInfo(1, 0x8000)).toThrow(/already/);
    expect(() => ge.registerVcpuInfo(0, 0x7fd0)).toThrow(/cross/);
    expect(() => ge.registerVcpuInfo(5, 0x7000)).toThrow(RangeError);
  });
});

describe('interdomain channels', () => {
  test('between two guests: bind raises the new port, send crosses, status shows both ends, close unbinds the peer', () => {
    const { h, s, d: a, shared } = setup();
    const bDom = h.create({ name: 'b' });
    const ev = s.evtchn;
    const pa = ev.allocUnbound(a.id, bDom.id);
    expect(pa).toBe(1);
    expect(ev.status(a.id, pa)).toEqual({ status: 1, vcpu: 0, remoteDom: bDom.id, remotePort: 0, virq: 0 });
    // Only the domain the port is offered to may bind it.
    expect(ev.bindInterdomain(a.id, a.id, pa)).toBe(EINVAL);
    expect(ev.bindInterdomain(bDom.id, a.id, 9)).toBe(EINVAL);
    expect(ev.bindInterdomain(bDom.id, 77, pa)).toBe(ESRCH);
    const pb = ev.bindInterdomain(bDom.id, a.id, pa);
    expect(pb).toBe(1);
    expect(bit(shared(bDom), PENDING, pb)).toBe(true);
    expect(ev.status(bDom.id, pb)).toEqual({ status: 2, vcpu: 0, remoteDom: a.id, remotePort: pa, virq: 0 });
    expect(ev.send(a.id, pa)).toBe(0);
    expect(bit(shared(a), PENDING, pa)).toBe(false);
    expect(ev.send(bDom.id, pb)).toBe(0);
    expect(bit(shared(a), PENDING, pa)).toBe(true);
    // The peer goes back to unbound, offered to the closer; a send on it is dropped.
    expect(ev.close(a.id, pa)).toBe(0);
    expect(ev.status(a.id, pa)).toMatchObject({ status: 0 });
    expect(bit(shared(a), PENDING, pa)).toBe(false);
    expect(ev.status(bDom.id, pb)).toMatchObject({ status: 1, remoteDom: a.id });
    expect(ev.send(bDom.id, pb)).toBe(0);
    expect(ev.close(a.id, pa)).toBe(EINVAL);
  });

  test('with a domain-0 backend: the guest offers a port, the backend binds it and both directions work', () => {
    const { s, d, upcalls, shared } = setup();
    const ev = s.evtchn;
    const gp = ev.allocUnbound(d.id, 0);
    const bp = ev.bindInterdomain(0, d.id, gp);
    expect(bp).toBe(1);
    // Bind marked the backend port pending; the handler gets it once registered.
    const seen: number[] = [];
    s.backend.setHandler(bp, (p) => seen.push(p));
    expect(seen).toEqual([bp]);
    ev.send(d.id, gp);
    ev.send(d.id, gp);
    expect(seen).toEqual([bp, bp, bp]);
    // A masked backend port holds the event until unmask.
    s.backend.mask(bp);
    ev.send(d.id, gp);
    expect(s.backend.isPending(bp)).toBe(true);
    expect(ev.unmask(0, bp)).toBe(0);
    expect(seen.length).toBe(4);
    // The backend notifies the guest.
    expect(ev.send(0, bp)).toBe(0);
    expect(bit(shared(), PENDING, gp)).toBe(true);
    expect(upcalls).toEqual([`${d.id}:0`]);
    // A failing handler does not reach the sender.
    s.backend.setHandler(bp, () => {
      throw new Error('boom');
    });
    expect(ev.send(d.id, gp)).toBe(0);
  });

  test('destroying a guest closes its ports: its backend peer goes back to unbound and the tables go', () => {
    const { h, s, d } = setup();
    const ev = s.evtchn;
    const bp = ev.allocUnbound(0, d.id);
    const gp = ev.bindInterdomain(d.id, 0, bp);
    expect(ev.status(0, bp)).toMatchObject({ status: 2, remoteDom: d.id, remotePort: gp });
    h.hv.destroy(d);
    expect(ev.status(0, bp)).toMatchObject({ status: 1, remoteDom: d.id });
    expect(ev.send(d.id, gp)).toBe(ESRCH);
    expect(s.guestEvents(d.id)).toBeNull();
    expect(ev.send(0, bp)).toBe(0);
  });
});

describe('limits and bad input', () => {
  test('1023 ports by default, then -ENOSPC; ports past the limit are -EINVAL', () => {
    const { s, d } = setup();
    const ev = s.evtchn;
    for (let i = 1; i <= 1023; i++) expect(ev.allocUnbound(d.id, 0)).toBe(i);
    expect(ev.allocUnbound(d.id, 0)).toBe(ENOSPC);
    expect(ev.bindIpi(d.id, 0)).toBe(ENOSPC);
    expect(ev.send(d.id, 1024)).toBe(EINVAL);
    expect(ev.close(d.id, 1024)).toBe(EINVAL);
    expect(ev.status(d.id, 4096)).toBe(EINVAL);
    expect(ev.unmask(d.id, -1)).toBe(EINVAL);
    // A closed port is reused, lowest first.
    expect(ev.close(d.id, 500)).toBe(0);
    expect(ev.bindIpi(d.id, 1)).toBe(500);
  });

  test('port 0 and free ports: close -EINVAL, status closed, send -EINVAL', () => {
    const { s, d } = setup();
    const ev = s.evtchn;
    expect(ev.close(d.id, 0)).toBe(EINVAL);
    expect(ev.status(d.id, 0)).toMatchObject({ status: 0 });
    expect(ev.send(d.id, 7)).toBe(EINVAL);
    expect(ev.allocUnbound(99, 0)).toBe(ESRCH);
  });

  test('VIRQ and vCPU checks as Xen makes them', () => {
    const { s, d } = setup();
    const ev = s.evtchn;
    expect(ev.bindVirq(d.id, 24, 0)).toBe(EINVAL);
    expect(ev.bindVirq(d.id, 3, 1)).toBe(EINVAL); // VIRQ_DOM_EXC is global: vCPU 0 only
    expect(ev.bindVirq(d.id, 0, 2)).toBe(ENOENT);
    expect(ev.bindIpi(d.id, 2)).toBe(ENOENT);
    const t0 = ev.bindVirq(d.id, 0, 0);
    expect(ev.bindVirq(d.id, 0, 0)).toBe(EEXIST);
    expect(ev.bindVirq(d.id, 0, 1)).toBe(t0 + 1);
    expect(ev.send(d.id, t0)).toBe(EINVAL);
    // bind_vcpu: per-vCPU VIRQs and IPIs stay; global VIRQs, unbound and interdomain ports move.
    expect(ev.bindVcpu(d.id, t0, 1)).toBe(EINVAL);
    const ipi = ev.bindIpi(d.id, 0);
    expect(ev.bindVcpu(d.id, ipi, 1)).toBe(EINVAL);
    const g = ev.bindVirq(d.id, 3, 0);
    expect(ev.bindVcpu(d.id, g, 1)).toBe(0);
    expect(ev.bindVcpu(d.id, g, 5)).toBe(ENOENT);
    expect(ev.status(d.id, g)).toEqual({ status: 4, vcpu: 1, remoteDom: 0, remotePort: 0, virq: 3 });
    // Closing the moved global VIRQ frees its binding.
    expect(ev.close(d.id, g)).toBe(0);
    expect(ev.bindVirq(d.id, 3, 0)).toBe(g);
    expect(ev.reset(d.id)).toBe(0);
    expect(ev.status(d.id, t0)).toMatchObject({ status: 0 });
    expect(ev.bindIpi(d.id, 0)).toBe(1);
  });
});

describe('the default upcall', () => {
  test('wakes a vCPU blocked in HLT when an event reaches it', () => {
    const h = harness();
    const s = domainServices(h.hv);
    const d = h.create();
    h.vcpu(d).queue(halt());
    h.loop.run();
    expect(d.vcpuList[0].blocked).toBe(true);
    const bp = s.evtchn.allocUnbound(0, d.id);
    const gp = s.evtchn.bindInterdomain(d.id, 0, bp);
    // bind_interdomain raised the guest's new port: upcall_pending went 0 -> 1 and the vCPU woke.
    expect(d.vcpuList[0].blocked).toBe(false);
    expect(sharedOf(h, d)[0]).toBe(1);
    expect(s.evtchn.send(0, bp)).toBe(0);
    expect(bit(sharedOf(h, d), PENDING, gp)).toBe(true);
  });
});
