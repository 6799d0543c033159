// The fake shim's ABI v2 side: domains, policy tables and scripted vCPUs that play back queued exits.
import {
  DIRTY_ALL, EXIT_HYPERCALL, EXIT_IO, EXIT_MSR, EXIT_SHUTDOWN, HCALL_ENOSYS, HCALL_FAST, MSR_CONST, MSR_FORWARD, MSR_GUEST, MSR_STORED,
  RUN_CRASH, RUN_EXIT, RUN_HALT, RUN_HOST, RUN_PREEMPT, SEG, STATE, type VcpuCreated, type VirtCaps,
} from '../src/hv/abi';
import type { FakeMemory } from './fakeMemory';

/** What a step sees: the vCPU, its domain and the machine's clock. */
export interface StepContext {
  vcpu: FakeVcpu;
  domain: FakeDomain;
  deadline: number;
  /** Moves the fake clock forward. */
  advance(ns: number): void;
  now(): number;
}

/** A scripted piece of guest execution: returns a RUN_* result to end vcpuRun, or null to go on (a fast exit). */
export type Step = (ctx: StepContext) => number | null;

/** One domain of the fake. */
export interface FakeDomain {
  handle: number;
  domid: number;
  npt: number;
  cpuid: Uint32Array | null;
  msrs: Uint32Array | null;
  ports: Uint8Array | null;
  mmio: Float64Array | null;
  hypercalls: Uint32Array;
  /** domainSetDevices flags. */
  devices: number;
  /** domainSetSendPorts' list (the fake never defers: sends are forwarded). */
  sendPorts: number[];
  frames: number[];
  vcpus: Set<number>;
}

/** What vcpuRun found TypeScript left in the state page at one entry. */
export interface Entry {
  dirty: number;
  rax: bigint;
  rip: bigint;
  inject: { type: number; vector: number; hasError: number; error: number } | null;
}

/** One scripted vCPU: its state page, its queue of steps and a record of every entry. */
export class FakeVcpu {
  readonly script: Step[] = [];
  readonly entries: Entry[] = [];
  /** What happens when the script is empty: HLT with interrupts on (RUN_HALT), or spin to the deadline (RUN_PREEMPT). */
  idle: 'halt' | 'spin' = 'halt';
  runs = 0;
  constructor(
    readonly handle: number,
    readonly domainHandle: number,
    readonly id: number,
    readonly statePa: number,
    readonly page: DataView,
    readonly frames: number,
  ) {}

  /** A 64-bit state field (STATE offset) as a bigint. */
  get64(off: number): bigint {
    return this.page.getBigUint64(off, true);
  }

  /** Sets a 64-bit state field. */
  set64(off: number, v: bigint): void {
    this.page.setBigUint64(off, BigInt.asUintN(64, v), true);
  }

  /** GPR i (x86 order). */
  gpr(i: number): bigint {
    return this.get64(STATE.gpr + 8 * i);
  }

  setGpr(i: number, v: bigint): void {
    this.set64(STATE.gpr + 8 * i, v);
  }

  /** Sets the exit record (reason and qualifiers). */
  exit(reason: number, quals: bigint[] = []): void {
    this.page.setUint32(STATE.exitReason, reason, true);
    for (let i = 0; i < 4; i++) this.set64(STATE.exitQual + 8 * i, quals[i] ?? 0n);
  }

  /** Adds steps to the script. */
  queue(...steps: Step[]): this {
    this.script.push(...steps);
    return this;
  }

  /** RAX values TypeScript wrote back after each forwarded exit, in order. */
  get results(): bigint[] {
    return this.entries.slice(1).map((e) => e.rax);
  }
}

const FRAME = 4096;
const ENOSYS = 38n;

/** Domains and vCPUs for FakeShim; frames come from the fake's allocator so accounting is real. */
export class FakeVirt {
  readonly domains = new Map<number, FakeDomain>();
  readonly vcpus = new Map<number, FakeVcpu>();
  caps: VirtCaps = { vendor: 'amd', svm: true, npt: true, nrips: false, decodeAssists: false, vmcbClean: false, flushByAsid: false, asids: 16, vmx: false, usable: true, reason: '' };
  /** Set to make vcpuRun return RUN_HOST when console input is waiting (as the shim does). */
  inputPending: () => boolean = () => false;
  private nextHandle = 1;

  constructor(
    private readonly mem: FakeMemory,
    private readonly alloc: (count: number) => number,
    private readonly free: (addr: number, count: number) => void,
    private readonly clock: { now(): number; advance(ns: number): void },
  ) {}

  domain(handle: number, fn: string): FakeDomain {
    const d = this.domains.get(handle);
    if (!d) throw new RangeError(`${fn}: no domain with handle ${handle}`);
    return d;
  }

  vcpu(handle: number, fn = 'vcpu'): FakeVcpu {
    const v = this.vcpus.get(handle);
    if (!v) throw new RangeError(`${fn}: no vCPU with handle ${handle}`);
    return v;
  }

  domainCreate(domid: number): number {
    if (!this.caps.usable) throw new RangeError(`domainCreate: guests cannot run on this machine: ${this.caps.reason}`);
    for (const d of this.domains.values()) if (d.domid === domid) throw new RangeError(`domainCreate: domain ${domid} already exists`);
    // struct domain and its CPUID table (1 frame each) and the MSR bitmap (2 frames), as the shim does.
    const frames = [this.alloc(1), this.alloc(1), this.alloc(2)];
    const handle = this.nextHandle++;
    this.domains.set(handle, { handle, domid, npt: 0, cpuid: null, msrs: null, ports: null, mmio: null, hypercalls: new Uint32Array(128), devices: 0, sendPorts: [], frames, vcpus: new Set() });
    return handle;
  }

  domainDestroy(handle: number): void {
    const d = this.domain(handle, 'domainDestroy');
    for (const v of Array.from(d.vcpus)) this.vcpuDestroy(v);
    this.free(d.frames[0], 1);
    this.free(d.frames[1], 1);
    this.free(d.frames[2], 2);
    this.domains.delete(handle);
  }

  domainSetNpt(handle: number, root: number): void {
    if (root % FRAME !== 0) throw new RangeError('domainSetNpt: root is not a page');
    this.domain(handle, 'domainSetNpt').npt = root;
  }

  domainSetCpuid(handle: number, t: Uint32Array): void {
    if (!(t instanceof Uint32Array) || t.length % 7) throw new TypeError('domainSetCpuid: need a Uint32Array of 7-word entries');
    if (t.length / 7 > 146) throw new RangeError('domainSetCpuid: too many entries');
    this.domain(handle, 'domainSetCpuid').cpuid = t.slice();
  }

  domainSetMsrs(handle: number, t: Uint32Array): void {
    if (!(t instanceof Uint32Array) || t.length % 4) throw new TypeError('domainSetMsrs: need a Uint32Array of 4-word entries');
    if (t.length / 4 > 128) throw new RangeError('domainSetMsrs: too many entries');
    this.domain(handle, 'domainSetMsrs').msrs = t.slice();
  }

  domainSetPorts(handle: number, b: Uint8Array): void {
    if (!(b instanceof Uint8Array) || b.length !== 8192) throw new RangeError('domainSetPorts: bitmap has to be 8192 bytes');
    this.domain(handle, 'domainSetPorts').ports = b.slice();
  }

  domainSetMmio(handle: number, r: Float64Array): void {
    if (!(r instanceof Float64Array) || r.length % 2) throw new RangeError('domainSetMmio: need [base, length] pairs');
    this.domain(handle, 'domainSetMmio').mmio = r.slice();
  }

  domainSetSendPorts(handle: number, ports: Uint32Array): void {
    if (!(ports instanceof Uint32Array) || ports.length > 32) throw new RangeError('domainSetSendPorts: at most 32 ports in a Uint32Array');
    this.domain(handle, 'domainSetSendPorts').sendPorts = Array.from(ports);
  }

  domainSetDevices(handle: number, flags: number): void {
    if (!Number.isInteger(flags) || flags < 0 || flags & ~1) throw new RangeError(`domainSetDevices: unknown device flags ${flags}`);
    this.domain(handle, 'domainSetDevices').devices = flags;
  }

  domainSetHypercalls(handle: number, t: Uint32Array): void {
    if (!(t instanceof Uint32Array) || t.length !== 128) throw new RangeError('domainSetHypercalls: need exactly 128 elements');
    for (let i = 0; i < 64; i++) {
      if (t[2 * i] > HCALL_FAST) throw new RangeError(`domainSetHypercalls: hypercall ${i}: mode ${t[2 * i]} is not 0-2`);
      if (t[2 * i] === HCALL_FAST && i !== 17 && i !== 24 && i !== 29 && i !== 32) throw new RangeError(`domainSetHypercalls: hypercall ${i} has no fast handler`);
    }
    this.domain(handle, 'domainSetHypercalls').hypercalls = t.slice();
  }

  vcpuCreate(domainHandle: number, id: number): VcpuCreated {
    const d = this.domain(domainHandle, 'vcpuCreate');
    for (const h of d.vcpus) if (this.vcpu(h).id === id) throw new RangeError(`vcpuCreate: domain ${d.domid} already has vCPU ${id}`);
    const control = this.alloc(2);
    const state = this.alloc(1);
    const handle = this.nextHandle++;
    const v = new FakeVcpu(handle, domainHandle, id, state, new DataView(this.mem.view(state, FRAME)), control);
    resetState(v);
    d.vcpus.add(handle);
    this.vcpus.set(handle, v);
    return { handle, state };
  }

  vcpuDestroy(handle: number): void {
    const v = this.vcpu(handle, 'vcpuDestroy');
    this.free(v.frames, 2);
    this.free(v.statePa, 1);
    this.domain(v.domainHandle, 'vcpuDestroy').vcpus.delete(handle);
    this.vcpus.delete(handle);
  }

  vcpuRun(handle: number, deadline: number): number {
    const v = this.vcpu(handle, 'vcpuRun');
    const d = this.domain(v.domainHandle, 'vcpuRun');
    if (!d.npt) throw new RangeError(`vcpuRun: domain ${d.domid} has no nested page table (domainSetNpt)`);
    if (typeof deadline !== 'number' || !(deadline >= 0)) throw new RangeError('vcpuRun: deadlineNs must be >= 0 or Infinity');
    const p = v.page;
    const dirty = Number(v.get64(STATE.dirty));
    if (dirty & ~DIRTY_ALL) throw new RangeError(`vcpuRun: state: unknown dirty bits ${dirty.toString(16)}`);
    const injectType = p.getUint32(STATE.injectType, true);
    v.entries.push({
      dirty, rax: v.gpr(0), rip: v.get64(STATE.rip),
      inject: injectType ? { type: injectType, vector: p.getUint32(STATE.injectVector, true), hasError: p.getUint32(STATE.injectHasError, true), error: p.getUint32(STATE.injectError, true) } : null,
    });
    p.setUint32(STATE.injectType, 0, true);
    v.set64(STATE.dirty, 0n);
    v.exit(0);
    p.setUint32(STATE.insnLen, 0, true);
    v.runs++;
    if (this.inputPending()) return this.finish(v, RUN_HOST);
    const ctx: StepContext = { vcpu: v, domain: d, deadline, advance: (ns) => this.clock.advance(ns / 1e6), now: () => this.clock.now() };
    for (;;) {
      const step = v.script.shift();
      if (!step) {
        if (v.idle === 'halt') {
          v.set64(STATE.rflags, v.get64(STATE.rflags) | 0x200n);
          return this.finish(v, RUN_HALT);
        }
        if (!Number.isFinite(deadline)) throw new Error('fake vCPU told to spin forever (no deadline)');
        if (this.clock.now() < deadline) this.clock.advance((deadline - this.clock.now()) / 1e6);
        return this.finish(v, RUN_PREEMPT);
      }
      const r = step(ctx);
      if (r !== null) return this.finish(v, r);
      // Like the serial interrupt in the shim, waiting input ends the run at the next exit.
      if (this.inputPending()) return this.finish(v, RUN_HOST);
      if (this.clock.now() >= deadline) return this.finish(v, RUN_PREEMPT);
    }
  }

  private finish(v: FakeVcpu, r: number): number {
    v.page.setUint32(STATE.runResult, r, true);
    return r;
  }
}

/** The architectural reset state (as the shim's state_reset), every field dirty. */
function resetState(v: FakeVcpu): void {
  for (let i = 0; i < 1024; i++) v.page.setUint32(i * 4, 0, true);
  v.set64(STATE.rip, 0xfff0n);
  v.set64(STATE.rflags, 2n);
  v.set64(STATE.cr0, 0x60000010n);
  v.set64(STATE.xcr0, 1n);
  for (let i = 0; i < 8; i++) {
    const off = STATE.seg + 16 * i;
    v.page.setUint16(off + 2, i === SEG.ldtr ? 0x82 : i === SEG.tr ? 0x8b : i === SEG.cs ? 0x9b : 0x93, true);
    v.page.setUint32(off + 4, 0xffff, true);
  }
  v.set64(STATE.pat, 0x0007040600070406n);
  v.set64(STATE.dr6, 0xffff0ff0n);
  v.set64(STATE.dr7, 0x400n);
  v.set64(STATE.dirty, BigInt(DIRTY_ALL));
}

/** 64-bit hypercall argument registers (RDI RSI RDX R10 R8) and 32-bit ones (EBX ECX EDX ESI EDI). */
const ARGS64 = [7, 6, 2, 10, 8];
const ARGS32 = [3, 1, 2, 6, 7];

/** A VMMCALL with number nr and arguments, handled through the domain's hypercall table as the shim does. */
export function hypercall(nr: number, args: (number | bigint)[] = [], opts: { long64?: boolean; costNs?: number } = {}): Step {
  const long64 = opts.long64 !== false;
  return (ctx) => {
    const v = ctx.vcpu;
    if (opts.costNs) ctx.advance(opts.costNs);
    v.setGpr(0, BigInt(nr));
    args.forEach((a, i) => v.setGpr((long64 ? ARGS64 : ARGS32)[i], BigInt(a)));
    v.set64(STATE.rip, v.get64(STATE.rip) + 3n);
    v.page.setUint32(STATE.insnLen, 3, true);
    const ret = (x: bigint): void => v.setGpr(0, long64 ? BigInt.asUintN(64, x) : BigInt.asUintN(32, x));
    const mode = nr < 64 ? ctx.domain.hypercalls[2 * nr] : HCALL_ENOSYS;
    if (mode === HCALL_ENOSYS) {
      ret(-ENOSYS);
      return null;
    }
    const sub = Number(BigInt(args[0] ?? 0) & 0xffffffffn);
    if (mode === HCALL_FAST && nr === 17 && sub === 0) {
      ret(BigInt(ctx.domain.hypercalls[2 * nr + 1]));
      return null;
    }
    if (mode === HCALL_FAST && nr === 29 && sub === 0) {
      ret(0n);
      return RUN_PREEMPT;
    }
    v.exit(EXIT_HYPERCALL, [long64 ? 1n : 0n]);
    return RUN_EXIT;
  };
}

/** A WRMSR (or RDMSR) handled through the domain's MSR table as the shim does; unknown MSRs record a #GP. */
export function msrAccess(msr: number, write: boolean, value = 0n, onGp?: () => void): Step {
  return (ctx) => {
    const v = ctx.vcpu;
    v.set64(STATE.rip, v.get64(STATE.rip) + 2n);
    v.page.setUint32(STATE.insnLen, 2, true);
    const t = ctx.domain.msrs ?? new Uint32Array(0);
    for (let i = 0; i < t.length; i += 4) {
      if (t[i] !== msr) continue;
      const action = t[i + 1];
      if (action === MSR_FORWARD) {
        v.exit(EXIT_MSR, [BigInt(msr), write ? 1n : 0n, write ? value : 0n, 0n]);
        return RUN_EXIT;
      }
      if (!write && (action === MSR_CONST || action === MSR_STORED || action === MSR_GUEST)) {
        const val = (BigInt(t[i + 3]) << 32n) | BigInt(t[i + 2]);
        v.setGpr(0, val & 0xffffffffn);
        v.setGpr(2, val >> 32n);
      }
      return null;
    }
    if (onGp) onGp();
    return null;
  };
}

/** HLT: with interrupts enabled (IF=1) by default. */
export function halt(interrupts = true): Step {
  return (ctx) => {
    const v = ctx.vcpu;
    const fl = v.get64(STATE.rflags);
    v.set64(STATE.rflags, interrupts ? fl | 0x200n : fl & ~0x200n);
    v.set64(STATE.rip, v.get64(STATE.rip) + 1n);
    return RUN_HALT;
  };
}

/** A triple fault (the shim crashes the run). */
export function tripleFault(): Step {
  return (ctx) => {
    ctx.vcpu.exit(EXIT_SHUTDOWN);
    return RUN_CRASH;
  };
}

/** A forwarded port access (only sent when a port is registered; here to test the crash path). */
export function portIo(port: number, size: number, read: boolean): Step {
  return (ctx) => {
    ctx.vcpu.exit(EXIT_IO, [BigInt(port), BigInt(size), read ? 1n : 0n, 0n]);
    return RUN_EXIT;
  };
}

/** Guest work taking ns of time (ends the run at the deadline like the timer would). */
export function compute(ns: number): Step {
  return (ctx) => {
    const until = Math.min(ctx.now() + ns, ctx.deadline);
    ctx.advance(until - ctx.now());
    return until >= ctx.deadline ? RUN_PREEMPT : null;
  };
}
