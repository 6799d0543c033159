// A fake machine with the hypervisor, toolstack context and run loop wired as main.ts wires them, for guest tests.
import { setShim } from '../../src/hv/abi';
import { createDomain0, DomainTable } from '../../src/hv/domains';
import type { GuestDomain } from '../../src/hv/guestDomain';
import { Hypervisor } from '../../src/hv/hypervisor';
import { hvLog } from '../../src/hv/log';
import { RunLoop } from '../../src/hv/runLoop';
import { createHostStore } from '../../src/hv/hostStore';
import { installDomainMonitor } from '../../src/toolstack/lifecycle';
import { createXlCommand } from '../../src/toolstack/xl/xl';
import { createXlApi } from '../../src/toolstack/xl/xl';
import { splitWords } from '../../src/toolstack/args';
import { createFromScript } from '../../src/toolstack/xl/xlCreate';
import type { XlContext } from '../../src/toolstack/xlContext';
import { encodeUtf8 } from '../../src/runtime/utf8';
import { XsClient } from '../../src/xenstore/client';
import type { XenStore } from '../../src/xenstore/state';
import { FakeShim, type FakeShimOptions } from '../fakeShim';
import type { FakeVcpu } from '../fakeVirt';
import { buildElf, leBytes } from './elfBuilder';

/** A minimal PVH kernel: one segment at 1 MiB with the PHYS32_ENTRY note (4-byte descriptor). */
export function pvhKernel(opts: { entry?: number; noteSize?: 4 | 8; size?: number } = {}): Uint8Array {
  const entry = opts.entry ?? 0x100000;
  return buildElf({
    segments: [{ paddr: 0x100000, data: new Uint8Array(opts.size ?? 4096).fill(0x90) }],
    notes: [{ owner: 'Xen', type: 18, desc: leBytes(entry, opts.noteSize ?? 4) }],
  });
}

/** The wired machine. */
export interface Harness {
  fake: FakeShim;
  table: DomainTable;
  hv: Hypervisor;
  ctx: XlContext;
  xs: XsClient;
  store: XenStore;
  loop: RunLoop;
  files: Map<string, Uint8Array>;
  /** Creates a domain from xl.cfg keys (kernel defaults to /boot/k.elf, memory to 4 MiB). */
  create(cfg?: Record<string, unknown>, paused?: boolean): GuestDomain;
  /** The fake vCPU behind a domain's vCPU i. */
  vcpu(d: GuestDomain, i?: number): FakeVcpu;
  /** Runs an xl command line; returns its output (awaiting a promise if it returns one is the caller's business). */
  xl(line: string): string;
  /** The hypervisor log so far. */
  dmesg(): string;
}

/** Builds a fresh machine (and installs its shim as the current one). */
export function harness(opts: FakeShimOptions = {}): Harness {
  const fake = new FakeShim({ memoryBytes: 128 * 1048576, ...opts });
  setShim(fake);
  hvLog.clear();
  const table = new DomainTable();
  const hv = new Hypervisor(table, { shim: () => fake });
  table.register(createDomain0(() => hv.guestCpuNs));
  const store = createHostStore();
  const xs = new XsClient(store);
  const files = new Map<string, Uint8Array>();
  files.set('/boot/k.elf', pvhKernel());
  const ctx: XlContext = { hv, xs, readFile: (p) => files.get(p) ?? null };
  installDomainMonitor(ctx, () => fake.wallClockMs());
  const loop = new RunLoop(hv, { shim: () => fake });
  const group = createXlCommand(ctx);
  const h: Harness = {
    fake, table, hv, ctx, xs, store, loop, files,
    create: (cfg = {}, paused = false) => {
      const id = createFromScript(ctx, { name: 'vm', kernel: '/boot/k.elf', memory: 4, ...cfg }, paused);
      return hv.guest(id) as GuestDomain;
    },
    vcpu: (d, i = 0) => fake.virt.vcpu(d.vcpuList[i].handle),
    xl: (line) => {
      let out = '';
      const r = group.run(splitWords(line), { write: (t) => (out += t) });
      if (r instanceof Promise) r.catch(() => undefined);
      return out;
    },
    dmesg: () => hvLog.format(),
  };
  return h;
}

/** The xl global over a harness (for the JS API tests). */
export function harnessApi(h: Harness): ReturnType<typeof createXlApi> {
  return createXlApi(createXlCommand(h.ctx), splitWords, h.ctx);
}

/** Writes bytes into a domain's guest-physical memory. */
export function poke(d: GuestDomain, gpa: number, bytes: Uint8Array | string): void {
  d.memory.write(gpa, typeof bytes === 'string' ? encodeUtf8(bytes) : bytes);
}
