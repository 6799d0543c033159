// One run of the guest machinery (build, policy, hypercalls, run loop, xl) on the fake shim, to compare Node with QuickJS.
import { setHypervisorConsole } from '../../src/hv/consoleLog';
import { compute, halt, hypercall, msrAccess, tripleFault } from '../fakeVirt';
import { harness, poke } from './guestHarness';

/** Creates three guests, runs them to completion and returns plain figures. */
export function runGuestScenario(): { [key: string]: unknown } {
  const h = harness({ memoryBytes: 96 * 1048576 });
  const echoed: string[] = [];
  setHypervisorConsole((t) => echoed.push(t));
  const a = h.create({ name: 'a', memory: 8, on_poweroff: 'preserve' });
  const b = h.create({ name: 'b', memory: 4, cpu_weight: 512, on_crash: 'preserve' });
  const c = h.create({ name: 'c', memory: 4 });
  poke(a, 0x3000, 'hello from a\n');
  poke(a, 0x3100, new Uint8Array([0, 0, 0, 0]));
  h.vcpu(a).queue(hypercall(18, [0, 13, 0x3000]), hypercall(17, [1, 0x3200], { long64: false }), msrAccess(0x40000000, true, 0x9000n),
    hypercall(29, [2, 0x3100]), halt());
  h.vcpu(b).queue(compute(45e6), tripleFault());
  h.vcpu(c).idle = 'spin';
  const nexts: number[] = [];
  for (let i = 0; i < 6; i++) nexts.push(h.loop.run());
  const list = h.xl('list');
  const vcpus = h.xl('vcpu-list');
  const extra = Array.from(a.memory.read(0x3200, 7));
  const stub = Array.from(a.memory.read(0x9000 + 18 * 32, 9));
  const aResults = h.vcpu(a).results.map(String);
  const free0 = h.fake.memStats().freeBytes;
  h.xl('destroy c');
  h.xl('destroy b');
  h.xl('destroy a');
  const figures = {
    echoed,
    list,
    vcpus,
    nexts,
    extra,
    stub,
    aResults,
    freed: h.fake.memStats().freeBytes - free0,
    live: h.fake.liveFrames.size,
    dmesg: h.dmesg().replace(/^\[[ \d.]+\] /gm, '').split('\n').filter((l) => /crashed|shut down|action|destroyed/.test(l)),
  };
  setHypervisorConsole(() => undefined);
  return figures;
}
