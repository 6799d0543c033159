// Secondary vCPUs started the way Linux's PVH guests do it: INIT, then a STARTUP IPI into real mode; and SCHEDOP_poll.
import { afterEach, expect, test } from '@jest/globals';
import { setShim } from '../../src/hv/abi';
import { domainServices } from '../../src/hv/evtchn/services';
import { domainInterrupts } from '../../src/hv/interrupts';
import { halt, hypercall } from '../fakeVirt';
import { harness } from './guestHarness';

afterEach(() => setShim(undefined));

test('INIT then SIPI starts an offline vCPU in real mode at the vector page; a running vCPU ignores them', () => {
  const h = harness();
  const d = h.create({ vcpus: 2 });
  const [v0, v1] = d.vcpuList;
  const ints = domainInterrupts(h.hv, d);
  expect(v1.online).toBe(false);
  ints.bus.sendIpi(ints.lapics[0], 0x600 | 0x9a, 1); // SIPI without INIT: ignored
  expect(v1.online).toBe(false);
  ints.bus.sendIpi(ints.lapics[0], 0xc500, 1);
  ints.bus.sendIpi(ints.lapics[0], 0x600 | 0x9a, 1);
  expect(v1.online).toBe(true);
  expect(v1.regNumber('rip')).toBe(0);
  expect(v1.regNumber('cr0')).toBe(0x10);
  expect(v1.seg('cs')).toMatchObject({ sel: 0x9a00, base: 0x9a000, limit: 0xffff });
  expect(v1.reg('tscOffset')).toBe(v0.reg('tscOffset'));
  // A second SIPI (Linux sends two) to the now running vCPU changes nothing.
  v1.setReg('rip', 0x1234);
  ints.bus.sendIpi(ints.lapics[0], 0x600 | 0x9a, 1);
  expect(v1.regNumber('rip')).toBe(0x1234);
});

test('SCHEDOP_poll: 0 for a pending port, 0 after a yield otherwise, -EINVAL for too many or bad ports', () => {
  const h = harness();
  const d = h.create();
  const ev = domainServices(h.hv).evtchn;
  const port = ev.bindIpi(d.id, 0);
  const ARG = 0x3100;
  const PORTS = 0x3000;
  const pollArg = (n: number, first: number) => {
    d.memory.writeU32(PORTS, first);
    d.memory.writeU32(ARG, PORTS);
    d.memory.writeU32(ARG + 4, 0);
    d.memory.writeU32(ARG + 8, n);
  };
  const run = () => {
    const v = h.vcpu(d);
    v.queue(hypercall(29, [3, ARG]), halt());
    if (d.vcpuList[0].blocked) h.hv.wake(d.vcpuList[0]);
    h.loop.run();
    return Number(BigInt.asIntN(64, v.results[v.results.length - 1]));
  };
  pollArg(1, port);
  expect(run()).toBe(0);
  ev.send(d.id, port);
  expect(run()).toBe(0);
  pollArg(129, port);
  expect(run()).toBe(-22);
  pollArg(1, 100000);
  expect(run()).toBe(-22);
});
