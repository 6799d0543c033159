// One end-to-end run of the issue-3 building blocks, used to compare Node with real QuickJS.
import { configFromObject, parseXlConfig, applyXlOverrides, domainConfigFromXl } from '../../src/toolstack/xlConfig';
import { GuestMemory } from '../../src/hv/guestMemory';
import { loadPvhGuest, planGuestPhysical } from '../../src/hv/pvhLayout';
import { copyFromGuest, copyToGuest, linearFromHalves, translateLinear } from '../../src/hv/guestPageWalk';
import { CreditScheduler } from '../../src/hv/sched/credit';
import { buildElf, leBytes } from './elfBuilder';
import { FakeFrames } from './fakeFrames';

/** Creates, loads and exercises a 32 MiB PVH guest; returns plain figures to compare between engines. */
export function runScenario(): { [key: string]: unknown } {
  const parsed = applyXlOverrides(
    parseXlConfig('name = "vm1"\ntype = "pvh"\nkernel = "/boot/k"\nmemory = 16\nextra = "console=hvc0"\nvif = [ "bridge=xenbr0", ]\n', 'vm.cfg'),
    ['memory=32', 'extra+=" quiet"'],
  );
  const { config, warnings } = domainConfigFromXl(parsed);
  const fromObject = configFromObject({ name: 'vm2', kernel: '/boot/k', memory: 64 }).config.memory;

  const fake = new FakeFrames();
  const plan = planGuestPhysical(config.memory);
  const mem = GuestMemory.create(fake, plan.populate);
  const kernel = buildElf({
    segments: [{ paddr: 0x1000000, vaddr: 0xffffffff81000000, data: new Uint8Array(8192).fill(0x90), memsz: 0x5000 }],
    notes: [{ owner: 'Xen', type: 18, desc: leBytes(0x1000040, 8) }],
  });
  const layout = loadPvhGuest(mem, plan, { kernel, ramdisk: new Uint8Array(5000).fill(7), cmdline: config.cmdline });

  // Long-mode tables mapping 0xffff888000000000 -> gpa 0x200000 and 0xffff888000200000 -> 0x600000 (2 MiB pages).
  const regs = { cr0: 0x80010011, cr3: 0x100000, cr4: 0x20, efer: 0xd00 };
  const pte = (gpa: number, addr: number, flags: number): void => {
    mem.writeU32(gpa, addr + flags);
    mem.writeU32(gpa + 4, 0);
  };
  pte(0x100000 + 0x111 * 8, 0x101000, 3);
  pte(0x101000, 0x102000, 3);
  pte(0x102000, 0x200000, 0x83);
  pte(0x102008, 0x600000, 0x83);
  const gla = linearFromHalves(0x1ffff8, 0xffff8880) as number;
  copyToGuest(mem, regs, gla, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]));
  const back = Array.from(copyFromGuest(mem, regs, gla, 16));
  const walk = translateLinear(mem, regs, gla);

  const s = new CreditScheduler();
  s.addDomain(1, { weight: 256 });
  s.addDomain(2, { weight: 512 });
  s.addVcpu(1, 0);
  s.addVcpu(2, 0);
  let now = 0;
  while (now < 3000000000) {
    const r = s.pickNext(now);
    if (!r.vcpu) break;
    now += r.sliceNs;
    s.charge(r.vcpu, r.sliceNs);
  }

  const figures = {
    config,
    warnings,
    fromObject,
    layout: { entry: layout.entry, startInfo: layout.startInfoGpa, ramdisk: layout.ramdisk, cmdline: layout.cmdlineGpa },
    magic: mem.readU32(layout.startInfoGpa),
    pages: mem.pages,
    hostBytes: mem.hostBytes,
    tableBytes: mem.tableBytes,
    bookkeepingBytes: mem.bookkeepingBytes,
    leaves: mem.nptMappings().length,
    back,
    walk,
    sched: [s.domainCpuNs(1), s.domainCpuNs(2)],
  };
  mem.destroy();
  return { ...figures, liveAfterDestroy: fake.live.size };
}
