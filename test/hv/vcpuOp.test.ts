// vcpu_op against the fake shim: vCPU ids, initialise (state page written exactly), up, down, is_up, and errors as Xen gives them.
import { afterEach, describe, expect, test } from '@jest/globals';
import { DIRTY_CR, DIRTY_GPR, DIRTY_RIP, DIRTY_SEG, DIRTY_TSC, SEG, setShim, STATE } from '../../src/hv/abi';
import { setHypervisorConsole } from '../../src/hv/consoleLog';
import { HVM_CONTEXT_SIZE } from '../../src/hv/hypercalls/vcpuOp';
import { halt, hypercall } from '../fakeVirt';
import type { FakeVcpu } from '../fakeVirt';
import { harness, poke, type Harness } from './guestHarness';

afterEach(() => {
  setShim(undefined);
  setHypervisorConsole(() => undefined);
});

const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);
const ENOENT = u64(-2n);
const EINVAL = u64(-22n);
const EFAULT = u64(-14n);
const EEXIST = u64(-17n);
const ENOSYS = u64(-38n);
const INIT = 0;
const UP = 1;
const DOWN = 2;
const IS_UP = 3;
const CTX = 0x5000;

/** A 64-bit mode vcpu_hvm_context; fields can be overridden by byte offset. */
function ctx64(over: { [off: number]: bigint } = {}): Uint8Array {
  const b = new Uint8Array(HVM_CONTEXT_SIZE);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 1, true); // VCPU_HVM_MODE_64B
  for (let i = 0; i < 8; i++) dv.setBigUint64(8 + 8 * i, BigInt(0x1111 * (i + 1)), true);
  dv.setBigUint64(72, 0x201234n, true); // rip
  dv.setBigUint64(80, 0xffffffff00000246n, true); // rflags: bits outside X86_EFLAGS_ALL must go
  dv.setBigUint64(88, 0x80000011n, true); // cr0 PG|ET|PE
  dv.setBigUint64(96, 0x104000n, true); // cr3
  dv.setBigUint64(104, 0x20n, true); // cr4 PAE
  dv.setBigUint64(112, 0x100n, true); // efer LME
  for (const [off, v] of Object.entries(over)) dv.setBigUint64(Number(off), v, true);
  return b;
}

/** A 32-bit mode context: flat 32-bit code/data, a busy TSS, paging off. */
function ctx32(over: { cs_ar?: number; eip?: number } = {}): Uint8Array {
  const b = new Uint8Array(HVM_CONTEXT_SIZE);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 0, true); // VCPU_HVM_MODE_32B
  for (let i = 0; i < 8; i++) dv.setUint32(8 + 4 * i, 0x100 + i, true);
  dv.setUint32(40, over.eip ?? 0x100200, true);
  dv.setUint32(44, 0xfff00202, true); // eflags: bits outside X86_EFLAGS_ALL must go
  dv.setUint32(48, 0x11, true); // cr0 PE|ET
  const ar = [over.cs_ar ?? 0xc9a, 0xc92, 0xc92, 0xc92, 0x8b]; // cs ds ss es tr (accessed bits clear: Xen sets them)
  for (let i = 0; i < 5; i++) {
    dv.setUint32(72 + 4 * i, i === 4 ? 0x7000 : i === 3 ? 0x1000 : 0, true);
    dv.setUint32(92 + 4 * i, i === 4 ? 0x67 : 0xffffffff, true);
    dv.setUint16(112 + 2 * i, ar[i], true);
  }
  return b;
}

/** Creates a domain with n vCPUs; returns it with the fake vCPUs. */
function smp(h: Harness, n: number, cfg: Record<string, unknown> = {}) {
  const d = h.create({ vcpus: n, ...cfg });
  const fv: FakeVcpu[] = [];
  for (let i = 0; i < n; i++) fv.push(h.vcpu(d, i));
  return { d, fv };
}

describe('vcpu ids', () => {
  test('a vCPU the domain does not have is -ENOENT, for every sub-op; vCPU 0 starts up, the others down', () => {
    const h = harness();
    const { d, fv } = smp(h, 4);
    fv[0].queue(
      hypercall(24, [IS_UP, 4]), hypercall(24, [UP, 4]), hypercall(24, [INIT, 99, CTX]), hypercall(24, [DOWN, 0xffffffff]),
      hypercall(24, [IS_UP, 0]), hypercall(24, [IS_UP, 3]), hypercall(24, [77, 1]), halt(),
    );
    h.loop.run();
    expect(fv[0].results).toEqual([ENOENT, ENOENT, ENOENT, ENOENT, 1n, 0n, ENOSYS]);
    expect(d.vcpus()).toBe(1);
  });

  test('initialise above the 32 legacy vcpu_info slots is -EINVAL (no VCPUOP_register_vcpu_info)', () => {
    const h = harness();
    const { d, fv } = smp(h, 34);
    poke(d, CTX, ctx64());
    fv[0].queue(hypercall(24, [INIT, 33, CTX]), hypercall(24, [INIT, 31, CTX]), halt());
    h.loop.run();
    expect(fv[0].results).toEqual([EINVAL, 0n]);
  });
});

describe('VCPUOP_initialise', () => {
  test('64-bit mode writes the state page exactly: GPRs, RIP, flags, CRs, EFER, flat segments, TSC offset', () => {
    const h = harness();
    const { d, fv } = smp(h, 2);
    d.vcpuList[0].setReg('tscOffset', -123456789n);
    poke(d, CTX, ctx64());
    fv[1].page.setUint32(STATE.dirty, 0, true);
    fv[0].queue(hypercall(24, [INIT, 1, CTX]), halt());
    h.loop.run();
    expect(fv[0].results).toEqual([0n]);
    const v = fv[1];
    // The context has rax..rdi; r8-r15 keep their reset value, 0.
    for (let i = 0; i < 8; i++) expect(v.gpr(i)).toBe(BigInt(0x1111 * (i + 1)));
    for (let i = 8; i < 16; i++) expect(v.gpr(i)).toBe(0n);
    expect(v.get64(STATE.rip)).toBe(0x201234n);
    expect(v.get64(STATE.rflags)).toBe(0x246n);
    expect(v.get64(STATE.cr0)).toBe(0x80000011n);
    expect(v.get64(STATE.cr3)).toBe(0x104000n);
    expect(v.get64(STATE.cr4)).toBe(0x20n);
    expect(v.get64(STATE.efer)).toBe(0x1500n); // LME, LMA added as Xen does, SVME for VMRUN
    expect(v.get64(STATE.xcr0)).toBe(1n);
    expect(v.get64(STATE.tscOffset)).toBe(u64(-123456789n));
    const seg = (i: number) => ({
      sel: v.page.getUint16(STATE.seg + 16 * i, true), attr: v.page.getUint16(STATE.seg + 16 * i + 2, true),
      limit: v.page.getUint32(STATE.seg + 16 * i + 4, true), base: v.get64(STATE.seg + 16 * i + 8),
    });
    expect(seg(SEG.cs)).toEqual({ sel: 0, attr: 0xa9b, limit: 0xffffffff, base: 0n });
    for (const s of [SEG.ds, SEG.ss, SEG.es]) expect(seg(s)).toEqual({ sel: 0, attr: 0xc93, limit: 0xffffffff, base: 0n });
    expect(seg(SEG.tr)).toEqual({ sel: 0, attr: 0x8b, limit: 0x67, base: 0n });
    const dirty = v.page.getUint32(STATE.dirty, true);
    for (const bit of [DIRTY_GPR, DIRTY_RIP, DIRTY_CR, DIRTY_SEG, DIRTY_TSC]) expect(dirty & bit).toBe(bit);
    expect(d.vcpuList[1].initialised).toBe(true);
    expect(d.vcpuList[1].online).toBe(false);
  });

  test('32-bit mode loads the given segments with accessed/busy bits, zero-extended registers, paging off', () => {
    const h = harness();
    const { d, fv } = smp(h, 2);
    poke(d, CTX, ctx32());
    fv[0].queue(hypercall(24, [INIT, 1, CTX]), halt());
    h.loop.run();
    expect(fv[0].results).toEqual([0n]);
    const v = fv[1];
    for (let i = 0; i < 8; i++) expect(v.gpr(i)).toBe(BigInt(0x100 + i));
    expect(v.get64(STATE.rip)).toBe(0x100200n);
    expect(v.get64(STATE.rflags)).toBe(0x300202n);
    expect(v.get64(STATE.cr0)).toBe(0x11n);
    expect(v.get64(STATE.seg + 16 * SEG.es + 8)).toBe(0x1000n);
    expect(v.get64(STATE.efer)).toBe(0x1000n);
    expect(v.page.getUint16(STATE.seg + 16 * SEG.cs + 2, true)).toBe(0xc9b);
    expect(v.page.getUint16(STATE.seg + 16 * SEG.ds + 2, true)).toBe(0xc93);
    expect(v.page.getUint16(STATE.seg + 16 * SEG.tr + 2, true)).toBe(0x8b);
    expect(v.get64(STATE.seg + 16 * SEG.tr + 8)).toBe(0x7000n);
  });

  test('twice is -EEXIST, and vCPU 0 (built running) is -EEXIST', () => {
    const h = harness();
    const { d, fv } = smp(h, 2);
    poke(d, CTX, ctx64());
    fv[0].queue(hypercall(24, [INIT, 1, CTX]), hypercall(24, [INIT, 1, CTX]), hypercall(24, [INIT, 0, CTX]), halt());
    h.loop.run();
    expect(fv[0].results).toEqual([0n, EEXIST, EEXIST]);
  });

  test('bad pointers are -EFAULT: unmapped, a context running off the end of RAM, non-canonical', () => {
    const h = harness();
    const { d, fv } = smp(h, 2);
    const end = d.memory.pages * 4096;
    fv[0].queue(
      hypercall(24, [INIT, 1, 0x7f000000]), hypercall(24, [INIT, 1, end - 64]), hypercall(24, [INIT, 1, 0x8000000000000000n]), halt(),
    );
    h.loop.run();
    expect(end).toBeLessThan(0x7f000000);
    expect(fv[0].results).toEqual([EFAULT, EFAULT, EFAULT]);
    expect(d.vcpuList[1].initialised).toBe(false);
  });

  test('contexts Xen refuses are -EINVAL and leave the vCPU uninitialised', () => {
    const h = harness();
    const { d, fv } = smp(h, 2);
    const bad: Uint8Array[] = [
      ctx64({ 0: 7n }), // unknown mode
      ctx64({ 0: (1n << 32n) | 1n }), // pad
      ctx64({ 72: 0x0000800000000000n }), // non-canonical RIP
      ctx64({ 88: 0x11n }), // no paging in 64-bit mode
      ctx64({ 104: 0n }), // no PAE
      ctx64({ 112: 0n }), // no LME
      ctx64({ 104: 0x2020n }), // CR4.VMXE
      ctx64({ 112: 0x1100n }), // EFER.SVME is the hypervisor's
      ctx64({ 88: 0x180000011n }), // CR0 above 32 bits
      ctx64({ 104: 0x100000020n }), // CR4 above 32 bits
      ctx64({ 112: 0x100000100n }), // EFER above 32 bits
      ctx32({ cs_ar: 0xc92 }), // data segment for CS
      ctx32({ eip: 0x100 }).map((x, i) => (i === 92 ? 0x10 : i >= 93 && i < 96 ? 0 : x)), // EIP beyond CS limit 0x10
      ctx32().map((x, i) => (i === 60 ? 1 : x)), // pad1
      ctx32().map((x, i) => (i === 124 ? 1 : x)), // pad2
    ];
    const steps = bad.map((b, i) => {
      poke(d, CTX + 0x100 * 2 * i, b);
      return hypercall(24, [INIT, 1, CTX + 0x200 * i]);
    });
    fv[0].queue(...steps, hypercall(24, [UP, 1]), halt());
    h.loop.run();
    expect(fv[0].results).toEqual([...bad.map(() => EINVAL), EINVAL]);
    expect(d.vcpuList[1].initialised).toBe(false);
  });
});

describe('VCPUOP_up, is_up and down', () => {
  test('up without initialise is -EINVAL; after it the vCPU runs from its context and shows in xl vcpu-list', () => {
    const h = harness();
    const { d, fv } = smp(h, 2);
    poke(d, CTX, ctx64());
    fv[1].queue(hypercall(24, [IS_UP, 1]), halt());
    fv[0].queue(hypercall(24, [UP, 1]), hypercall(24, [INIT, 1, CTX]), hypercall(24, [IS_UP, 1]), hypercall(24, [UP, 1]), hypercall(24, [IS_UP, 1]), hypercall(24, [UP, 1]), halt());
    h.loop.run();
    expect(fv[0].results).toEqual([EINVAL, 0n, 0n, 0n, 1n, 0n]);
    expect(fv[1].entries[0].rip).toBe(0x201234n);
    expect(fv[1].results).toEqual([1n]);
    expect(d.vcpus()).toBe(2);
    const list = h.xl('vcpu-list vm');
    expect(list).toMatch(/^vm\s+\d+\s+0\s+0\s+-b-\s+\d+\.\d  all \/ all$/m);
    expect(list).toMatch(/^vm\s+\d+\s+1\s+0\s+-b-\s+\d+\.\d  all \/ all$/m);
  });

  test('down stops a vCPU (its own call ends its slice); up resumes it after the call; the last one down powers off', () => {
    const h = harness();
    const { d, fv } = smp(h, 3, { on_poweroff: 'preserve' });
    poke(d, CTX, ctx64());
    // vCPU 1 takes itself down; when brought up again it goes on after its hypercall.
    fv[1].queue(hypercall(24, [DOWN, 1]), hypercall(24, [IS_UP, 1]), halt());
    fv[0].queue(hypercall(24, [INIT, 1, CTX]), hypercall(24, [UP, 1]), hypercall(29, [0]), hypercall(24, [IS_UP, 1]), hypercall(24, [UP, 1]), hypercall(29, [0]), hypercall(24, [DOWN, 1]), hypercall(24, [IS_UP, 1]), hypercall(24, [DOWN, 2]), halt());
    h.loop.run();
    // init, up, yield, is_up (0: vCPU 1 took itself down meanwhile), up, yield, down 1, is_up, down 2 (already down).
    expect(fv[0].results).toEqual([0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n]);
    expect(fv[1].results).toEqual([0n, 1n]);
    expect(d.vcpuList[1].online).toBe(false);
    expect(h.xl('vcpu-list vm')).toMatch(/^vm\s+\d+\s+1\s+-\s+--p\s+\d+\.\d  all \/ all$/m);
    expect(d.shutdownReason).toBeNull();
    expect(h.dmesg()).toMatch(/vcpu 1: down/);
    // Now vCPU 0 is the only one online: taking it down powers the domain off.
    fv[0].queue(hypercall(24, [DOWN, 0]), halt());
    h.hv.pause(d);
    h.hv.unpause(d);
    h.loop.run();
    expect(d.shutdownReason).toBe(0);
    expect(h.dmesg()).toMatch(/VCPUOP_down of its last online vCPU -- powering off/);
  });
});
