// Sends the shim defers: the port list it gets follows the domain's channels to domain 0, and drained sends reach the backend.
import { afterEach, expect, test } from '@jest/globals';
import { setShim, STATE } from '../../src/hv/abi';
import { drainDeferredSends, syncSendPorts } from '../../src/hv/evtchn/sendPorts';
import { VIRQ_TIMER } from '../../src/hv/evtchn/eventChannels';
import { domainServices } from '../../src/hv/evtchn/services';
import { halt, hypercall } from '../fakeVirt';
import { harness } from './guestHarness';

afterEach(() => setShim(undefined));

const W = STATE.deferredSends / 4;

test('the list holds interdomain ports to domain 0 only, in port order, and follows close', () => {
  const h = harness();
  const d = h.create();
  const s = domainServices(h.hv);
  const ev = s.evtchn;
  const a = ev.allocUnbound(d.id, 0);
  const aLocal = ev.bindInterdomain(0, d.id, a);
  ev.bindVirq(d.id, VIRQ_TIMER, 0);
  ev.allocUnbound(d.id, 0); // unbound: a send to it goes nowhere, nothing to defer
  const b = ev.allocUnbound(d.id, 0);
  ev.bindInterdomain(0, d.id, b);
  syncSendPorts(h.hv, d, h.fake);
  expect(h.fake.virt.domain(d.handle, 'test').sendPorts).toEqual([a, b]);

  // The guest closes a through the hypercall: the handler refreshes the shim's list.
  d.memory.writeU32(0x3000, a);
  h.vcpu(d).queue(hypercall(32, [3, 0x3000]), halt());
  h.loop.run();
  expect(h.vcpu(d).results[0]).toBe(0n);
  expect(h.fake.virt.domain(d.handle, 'test').sendPorts).toEqual([b]);
  expect(ev.status(0, aLocal)).toMatchObject({ status: 1 });
});

test('drained sends reach the backend once each, in list order, and the record is cleared', () => {
  const h = harness();
  const d = h.create();
  const s = domainServices(h.hv);
  const ev = s.evtchn;
  const seen: string[] = [];
  const ports = [0, 1, 2].map((i) => {
    const guest = ev.allocUnbound(d.id, 0);
    const local = ev.bindInterdomain(0, d.id, guest);
    s.backend.setHandler(local, () => seen.push(`b${i}`));
    return guest;
  });
  syncSendPorts(h.hv, d, h.fake);
  expect(h.fake.virt.domain(d.handle, 'test').sendPorts).toEqual(ports);
  h.hv.flushEvents();
  seen.length = 0; // binding raises each port once (as Xen does), before any send
  const v = d.vcpuList[0];
  v.words[W] = 0b101;
  drainDeferredSends(h.hv, d, v);
  h.hv.flushEvents();
  expect(seen).toEqual(['b0', 'b2']);
  expect(v.words[W]).toBe(0);
  // Nothing recorded: nothing sent.
  drainDeferredSends(h.hv, d, v);
  h.hv.flushEvents();
  expect(seen).toEqual(['b0', 'b2']);
});
