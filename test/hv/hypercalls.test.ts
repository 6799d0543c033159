// Hypercalls against the fake shim: both register conventions, guest pointers, every sub-op's answer.
import { afterEach, describe, expect, test } from '@jest/globals';
import { setShim } from '../../src/hv/abi';
import { PVH_FEATURES_SUBMAP0, uuidBytes } from '../../src/hv/hypercalls/xenVersion';
import { CONSOLE_WRITE_MAX } from '../../src/hv/hypercalls/consoleIo';
import { setHypervisorConsole } from '../../src/hv/consoleLog';
import { halt, hypercall, msrAccess } from '../fakeVirt';
import { harness, poke, type Harness } from './guestHarness';

afterEach(() => {
  setShim(undefined);
  setHypervisorConsole(() => undefined);
});

const EFAULT = -14n;
const ENOSYS = -38n;
const EPERM = -1n;
const EINVAL = -22n;
const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);
const u32 = (x: bigint): bigint => BigInt.asUintN(32, x);

/** Creates a domain, queues steps on vCPU 0, runs until it halts; returns the RAX values written back. */
function runSteps(h: Harness, steps: ReturnType<typeof hypercall>[], cfg: Record<string, unknown> = {}) {
  const d = h.create(cfg);
  const v = h.vcpu(d);
  v.queue(...steps, halt());
  h.loop.run();
  return { d, v, results: v.results };
}

/** Identity-maps the first 4 MiB with 2 MiB pages and switches the vCPU to long mode with those tables. */
function longMode(h: Harness, d: ReturnType<Harness['create']>): void {
  const q = new Uint8Array(8);
  const entry = (gpa: number, value: number): void => {
    new DataView(q.buffer).setBigUint64(0, BigInt(value), true);
    poke(d, gpa, q);
  };
  entry(0x10000, 0x11000 | 7);
  entry(0x11000, 0x12000 | 7);
  entry(0x12000, 0x000000 | 0x87);
  entry(0x12008, 0x200000 | 0x87);
  const v = d.vcpuList[0];
  v.setReg('cr3', 0x10000);
  v.setReg('cr4', 0x20);
  v.setReg('efer', 0x1500);
  v.setReg('cr0', 0x80000011);
}

describe('decoding', () => {
  test('the 64-bit convention: number in RAX, arguments in RDI RSI RDX; result in all of RAX', () => {
    const h = harness();
    const lines: string[] = [];
    setHypervisorConsole((t) => lines.push(t));
    const d = h.create();
    poke(d, 0x3000, 'hi there\n');
    const v = h.vcpu(d);
    v.queue(hypercall(18, [0, 9, 0x3000]), hypercall(18, [7]), halt());
    h.loop.run();
    expect(v.results).toEqual([0n, u64(ENOSYS)]);
    expect(lines).toEqual([`(d${d.id}) hi there\n`]);
    expect(d.console.text()).toBe('hi there\n');
  });

  test('the 32-bit convention: EBX ECX EDX, and only EAX is written', () => {
    const h = harness();
    const d = h.create();
    poke(d, 0x4000, 'abc');
    const v = h.vcpu(d);
    v.setGpr(0, 0xdeadbeef00000000n);
    v.queue(hypercall(18, [0, 3, 0x4000], { long64: false }), hypercall(17, [1, 0x5000], { long64: false }), halt());
    h.loop.run();
    expect(v.results).toEqual([0n, 0n]);
    expect(d.console.text()).toBe('abc');
    expect(Buffer.from(d.memory.read(0x5000, 7)).toString('latin1')).toBe('-zazen\0');
    // A negative result is a 32-bit value in the 32-bit convention (the halted vCPU is woken by unpause).
    v.queue(hypercall(29, [99], { long64: false }), halt());
    h.hv.pause(d);
    h.hv.unpause(d);
    h.loop.run();
    expect(v.results[v.results.length - 1]).toBe(u32(ENOSYS));
  });

  test('hypercalls without a handler get -ENOSYS from the shim, fast ones never reach TypeScript', () => {
    const h = harness();
    const { v, results } = runSteps(h, [hypercall(13, [0x1000, 1]), hypercall(17, [0]), hypercall(33, [])]);
    // multicall and physdev_op are answered -ENOSYS in C; XENVER_version in C: one entry, no forwarded results.
    expect(results).toEqual([]);
    expect(v.gpr(0)).toBe(u64(ENOSYS));
    expect(v.runs).toBe(1);
  });
});

describe('console_io', () => {
  test('bad pointers give -EFAULT and print nothing; huge counts -EINVAL; read finds nothing', () => {
    const h = harness();
    const d = h.create({ memory: 4 });
    const v = h.vcpu(d);
    longMode(h, d);
    v.queue(
      hypercall(18, [0, 4, 0x1ffffff0]), // beyond the 4 MiB identity map
      hypercall(18, [0, 4, 0x8000000000000000n]), // non-canonical
      hypercall(18, [0, 32, 0x3ffff0]), // runs off the end of guest RAM (and the map) half-way
      hypercall(18, [0, 16, 0x3ffff0]), // the last 16 bytes of RAM
      hypercall(18, [0, CONSOLE_WRITE_MAX + 1, 0x1000]),
      hypercall(18, [1, 16, 0x1000]),
      hypercall(18, [0, 0, 0]),
      halt(),
    );
    poke(d, 0x3ffff0, 'x'.repeat(16));
    h.loop.run();
    expect(v.results).toEqual([u64(EFAULT), u64(EFAULT), u64(EFAULT), 0n, u64(EINVAL), 0n, 0n]);
    expect(d.console.text()).toBe('x'.repeat(16));
  });

  test('output is sanitised like Xen and echoed a line at a time with (dN), long lines in pieces', () => {
    const h = harness();
    const lines: string[] = [];
    setHypervisorConsole((t) => lines.push(t));
    const d = h.create();
    poke(d, 0x2000, 'a\x1b[31mb\tc\r\n' + 'y'.repeat(250) + '\npartial');
    const v = h.vcpu(d);
    v.queue(hypercall(18, [0, 11 + 251 + 7, 0x2000]), halt());
    h.loop.run();
    expect(lines).toEqual([`(d${d.id}) a[31mb\tc\n`, `(d${d.id}) ${'y'.repeat(200)}\n`, `(d${d.id}) ${'y'.repeat(50)}\n`]);
    expect(d.console.text().endsWith('partial')).toBe(true);
    h.hv.destroy(d);
    expect(lines[lines.length - 1]).toBe(`(d${d.id}) partial\n`);
  });
});

describe('xen_version', () => {
  test('every sub-op a domU may use', () => {
    const h = harness();
    const d = h.create();
    const v = h.vcpu(d);
    poke(d, 0x6000, new Uint8Array([0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]));
    poke(d, 0x6100, new Uint8Array([1, 0, 0, 0]));
    v.queue(
      hypercall(17, [0]), // fast in C
      hypercall(17, [1, 0x5000]),
      hypercall(17, [3, 0x5100]),
      hypercall(17, [5, 0x5600]),
      hypercall(17, [6, 0x6000]),
      hypercall(17, [6, 0x6100]),
      hypercall(17, [7]),
      hypercall(17, [8, 0x6200]),
      hypercall(17, [9, 0x6300]),
      hypercall(17, [10, 0x6300]),
      hypercall(17, [11]),
      hypercall(17, [2, 0x7000]),
      hypercall(17, [4, 0x7100]),
      hypercall(17, [1, 0xffffffff0000n]),
      halt(),
    );
    poke(d, 0x5600, new Uint8Array(8).fill(0xaa));
    h.loop.run();
    expect(v.results).toEqual([0n, 0n, 0n, 0n, u64(EINVAL), 4096n, 0n, u64(EPERM), u64(EPERM), u64(ENOSYS), 0n, 0n, u64(EFAULT)]);
    const text = (gpa: number, n: number): string => Buffer.from(d.memory.read(gpa, n)).toString('latin1').replace(/\0+$/, '');
    expect(text(0x5000, 16)).toBe('-zazen');
    expect(text(0x5100, 1024)).toBe('hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64');
    expect(Array.from(d.memory.read(0x5600, 8))).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(new DataView(d.memory.read(0x6000, 8).buffer).getUint32(4, true)).toBe(PVH_FEATURES_SUBMAP0);
    expect(Array.from(d.memory.read(0x6200, 16))).toEqual(Array.from(uuidBytes(d.uuid)));
    expect(text(0x7000, 64)).toBe('unavailable');
    expect(text(0x7100, 64)).toBe('unavailable');
  });
});

describe('sched_op', () => {
  test('shutdown keeps the reason; the latched code wins over it; a bad pointer is -EFAULT', () => {
    const h = harness();
    const d = h.create({ on_poweroff: 'preserve', on_reboot: 'preserve' });
    poke(d, 0x8000, new Uint8Array([1, 0, 0, 0]));
    poke(d, 0x8004, new Uint8Array([0, 0, 0, 0]));
    poke(d, 0x8008, new Uint8Array([9, 0, 0, 0]));
    const v = h.vcpu(d);
    v.queue(hypercall(29, [5, 0x8000]), hypercall(29, [5, 0x8008]), hypercall(29, [2, 0x7ffffff0]), hypercall(29, [2, 0x8004]), halt());
    h.loop.run();
    expect(v.results).toEqual([0n, 0n, u64(EFAULT)]);
    expect(d.shutdownCode).toBe(1);
    expect(d.shutdownReason).toBe(1);
    expect(h.xl('list vm')).toMatch(/^vm\s+\d+\s+4\s+1\s+---sr-\s+0\.0$/m);
    expect(h.dmesg()).toMatch(/shut down: reboot \(latched code 1; requested poweroff\)/);
  });

  test('yield ends the slice in C; block sleeps until unpause; privileged sub-ops are refused; no watchdog', () => {
    const h = harness();
    const d = h.create();
    const v = h.vcpu(d);
    v.queue(hypercall(29, [0]), hypercall(29, [4, 0]), hypercall(29, [7, 0]), hypercall(29, [6, 0]), hypercall(29, [1]), halt());
    h.loop.run();
    // The first value is yield's, answered in C (it ends the run, so TypeScript sees it at the next entry).
    expect(v.results).toEqual([0n, u64(EPERM), u64(EPERM), u64(ENOSYS)]);
    expect(d.vcpuList[0].blocked).toBe(true);
    expect(h.xl('list vm')).toMatch(/-b----/);
    h.xl('pause vm');
    h.xl('unpause vm');
    expect(d.vcpuList[0].blocked).toBe(false);
    expect(h.xl('list vm')).toMatch(/r-----/);
  });
});

describe('hypercall page', () => {
  test('the MSR write fills the page with VMMCALL stubs; index, RAM and reads are checked with #GP', () => {
    const h = harness();
    const d = h.create();
    const v = h.vcpu(d);
    v.queue(msrAccess(0x40000000, true, 0x9000n), msrAccess(0x40000000, true, 0x9001n), msrAccess(0x40000000, true, 0xfeff8000n), msrAccess(0x40000000, false), halt());
    h.loop.run();
    const page = d.memory.read(0x9000, 4096);
    expect(Array.from(page.subarray(0, 9))).toEqual([0xb8, 0, 0, 0, 0, 0x0f, 0x01, 0xd9, 0xc3]);
    expect(Array.from(page.subarray(32 * 18, 32 * 18 + 9))).toEqual([0xb8, 18, 0, 0, 0, 0x0f, 0x01, 0xd9, 0xc3]);
    expect(Array.from(page.subarray(32 * 23, 32 * 23 + 3))).toEqual([0x0f, 0x0b, 0xcc]);
    expect(page[9]).toBe(0xcc);
    // Three #GPs, each with RIP wound back onto the WRMSR/RDMSR.
    const injected = v.entries.filter((e) => e.inject).map((e) => e.inject);
    expect(injected).toEqual([1, 2, 3].map(() => ({ type: 3, vector: 13, hasError: 1, error: 0 })));
    const rips = v.entries.map((e) => e.rip);
    expect(rips[2] - rips[1]).toBe(0n);
  });
});
