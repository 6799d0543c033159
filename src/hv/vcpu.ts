// A virtual CPU: its shim handle, its state page (registers and exit record) and its run state.
import { DIRTY_CR, DIRTY_DR, DIRTY_GPR, DIRTY_MSR, DIRTY_RIP, DIRTY_SEG, DIRTY_TSC, INJECT_EXC, SEG, STATE } from './abi';
import type { SchedVcpu } from './sched/credit';

/** General registers in the state page's (x86) order. */
export const GPR = {
  rax: 0, rcx: 1, rdx: 2, rbx: 3, rsp: 4, rbp: 5, rsi: 6, rdi: 7,
  r8: 8, r9: 9, r10: 10, r11: 11, r12: 12, r13: 13, r14: 14, r15: 15,
} as const;
export type GprName = keyof typeof GPR;

/** 64-bit state-page fields other than the GPRs, with the dirty bit a write sets. */
const FIELDS: { [name: string]: [number, number] } = {
  rip: [STATE.rip, DIRTY_RIP],
  rflags: [STATE.rflags, DIRTY_RIP],
  cr0: [STATE.cr0, DIRTY_CR],
  cr2: [STATE.cr2, DIRTY_CR],
  cr3: [STATE.cr3, DIRTY_CR],
  cr4: [STATE.cr4, DIRTY_CR],
  efer: [STATE.efer, DIRTY_CR],
  xcr0: [STATE.xcr0, DIRTY_CR],
  kernelGsBase: [STATE.kernelGsBase, DIRTY_MSR],
  star: [STATE.star, DIRTY_MSR],
  lstar: [STATE.lstar, DIRTY_MSR],
  cstar: [STATE.cstar, DIRTY_MSR],
  sfmask: [STATE.sfmask, DIRTY_MSR],
  sysenterCs: [STATE.sysenterCs, DIRTY_MSR],
  sysenterEsp: [STATE.sysenterEsp, DIRTY_MSR],
  sysenterEip: [STATE.sysenterEip, DIRTY_MSR],
  pat: [STATE.pat, DIRTY_MSR],
  dr6: [STATE.dr6, DIRTY_DR],
  dr7: [STATE.dr7, DIRTY_DR],
  tscOffset: [STATE.tscOffset, DIRTY_TSC],
};
export type FieldName = 'rip' | 'rflags' | 'cr0' | 'cr2' | 'cr3' | 'cr4' | 'efer' | 'xcr0' | 'kernelGsBase' | 'star' | 'lstar' | 'cstar' |
  'sfmask' | 'sysenterCs' | 'sysenterEsp' | 'sysenterEip' | 'pat' | 'dr6' | 'dr7' | 'tscOffset';
export type RegName = GprName | FieldName;
export type SegName = keyof typeof SEG;

/** One segment register in the state page; attr is SVM's packed attribute form. */
export interface Segment {
  sel: number;
  attr: number;
  limit: number;
  base: number;
}

const TWO32 = 4294967296;
/** Word indexes of hot fields in the page seen as a Uint32Array. */
const W_DIRTY = STATE.dirty / 4;
const W_CR0 = STATE.cr0 / 4;
const W_CR3 = STATE.cr3 / 4;
const W_CR4 = STATE.cr4 / 4;
const W_EFER = STATE.efer / 4;
const W_EXIT_REASON = STATE.exitReason / 4;
const W_INSN_LEN = STATE.insnLen / 4;
const W_QUAL = STATE.exitQual / 4;

/** Converts a number or bigint to the two u32 halves of a 64-bit two's-complement value. */
function halves(value: number | bigint): [number, number] {
  if (typeof value === 'bigint') {
    const v = BigInt.asUintN(64, value);
    return [Number(v & 0xffffffffn), Number(v >> 32n)];
  }
  if (!Number.isInteger(value) || Math.abs(value) > Number.MAX_SAFE_INTEGER) throw new RangeError(`register value ${value} is not a safe integer`);
  if (value >= 0) return [value % TWO32, Math.floor(value / TWO32)];
  const hi = Math.floor(value / TWO32);
  return [value - hi * TWO32, hi >>> 0];
}

/** A vCPU over its shim handle and state page; register writes set the page's dirty bits. */
export class Vcpu {
  /** The state page, for field access. */
  readonly view: DataView;
  /** The same page as words: the exit path reads it this way (faster in QuickJS). */
  readonly words: Uint32Array;
  /** Brought up (vCPU 0 at build, others by VCPUOP_up); offline vCPUs never run. */
  online = false;
  /** Has register state to run from (vCPU 0 at build, others by VCPUOP_initialise); VCPUOP_up needs it. */
  initialised = false;
  /** Halted or in SCHEDOP_block, waiting for an event. */
  blocked = false;
  /** CPU time charged to this vCPU, in ns. */
  cpuNs = 0;
  /** Set by the scheduler glue once the vCPU is registered with it. */
  sched: SchedVcpu | null = null;

  constructor(
    readonly domid: number,
    readonly id: number,
    /** The shim's vCPU handle (vcpuCreate). */
    readonly handle: number,
    /** Host-physical address of the state page. */
    readonly statePa: number,
    page: ArrayBuffer,
  ) {
    if (!(page instanceof ArrayBuffer) || page.byteLength < 4096) throw new RangeError('vCPU state page must be a 4096-byte ArrayBuffer');
    this.view = new DataView(page, 0, 4096);
    this.words = new Uint32Array(page, 0, 1024);
  }

  /** The 64-bit register or field as a bigint (exact). */
  reg(name: RegName): bigint {
    const off = this.offset(name);
    return (BigInt(this.view.getUint32(off + 4, true)) << 32n) | BigInt(this.view.getUint32(off, true));
  }

  /** The register as a number: exact below 2^53 (addresses, control registers). */
  regNumber(name: RegName): number {
    const off = this.offset(name);
    return this.view.getUint32(off + 4, true) * TWO32 + this.view.getUint32(off, true);
  }

  /** Writes a register (a number or bigint, negative values as two's complement) and marks it dirty. */
  setReg(name: RegName, value: number | bigint): void {
    const [lo, hi] = halves(value);
    const off = this.offset(name);
    this.view.setUint32(off, lo, true);
    this.view.setUint32(off + 4, hi, true);
    this.markDirty(name in GPR ? DIRTY_GPR : FIELDS[name][1]);
  }

  /** Low 32 bits of GPR i (x86 order), for the exit path. */
  gprLo(i: number): number {
    return this.words[2 * i];
  }

  /** High 32 bits of GPR i. */
  gprHi(i: number): number {
    return this.words[2 * i + 1];
  }

  /** Writes GPR i from its halves and marks the GPRs dirty. */
  setGprHalves(i: number, lo: number, hi: number): void {
    this.words[2 * i] = lo;
    this.words[2 * i + 1] = hi;
    this.words[W_DIRTY] |= DIRTY_GPR;
  }

  /** A segment register. */
  seg(name: SegName): Segment {
    const off = STATE.seg + 16 * SEG[name];
    return {
      sel: this.view.getUint16(off, true),
      attr: this.view.getUint16(off + 2, true),
      limit: this.view.getUint32(off + 4, true),
      base: this.view.getUint32(off + 12, true) * TWO32 + this.view.getUint32(off + 8, true),
    };
  }

  /** Writes a segment register (or GDTR/IDTR with name 'gdtr'/'idtr': only limit and base count). */
  setSeg(name: SegName | 'gdtr' | 'idtr', s: Segment): void {
    const off = name === 'gdtr' ? STATE.gdtr : name === 'idtr' ? STATE.idtr : STATE.seg + 16 * SEG[name];
    const [lo, hi] = halves(s.base);
    this.view.setUint16(off, s.sel, true);
    this.view.setUint16(off + 2, s.attr, true);
    this.view.setUint32(off + 4, s.limit, true);
    this.view.setUint32(off + 8, lo, true);
    this.view.setUint32(off + 12, hi, true);
    this.markDirty(DIRTY_SEG);
  }

  /** GDTR or IDTR as {base, limit}. */
  table(name: 'gdtr' | 'idtr'): { base: number; limit: number } {
    const off = name === 'gdtr' ? STATE.gdtr : STATE.idtr;
    return { limit: this.view.getUint32(off + 4, true), base: this.view.getUint32(off + 12, true) * TWO32 + this.view.getUint32(off + 8, true) };
  }

  /** Adds bits to the state page's dirty word (the shim loads those fields at the next run). */
  markDirty(bits: number): void {
    this.words[W_DIRTY] |= bits;
  }

  /** The dirty word. */
  get dirty(): number {
    return this.words[W_DIRTY];
  }

  /** The last exit's reason (EXIT_*). */
  get exitReason(): number {
    return this.words[W_EXIT_REASON];
  }

  /** Length of the instruction that exited, when the shim knew it. */
  get insnLen(): number {
    return this.words[W_INSN_LEN];
  }

  /** Exit qualifier i (0-3) as a number (exact below 2^53). */
  qual(i: number): number {
    return this.words[W_QUAL + 2 * i + 1] * TWO32 + this.words[W_QUAL + 2 * i];
  }

  /** Exit qualifier i's halves [lo, hi]. */
  qualHalves(i: number): [number, number] {
    return [this.words[W_QUAL + 2 * i], this.words[W_QUAL + 2 * i + 1]];
  }

  /** A 64-bit statistics or exit field by byte offset (STATE.*), as a number. */
  u64(offset: number): number {
    return this.view.getUint32(offset + 4, true) * TWO32 + this.view.getUint32(offset, true);
  }

  /** Queues a hardware exception for delivery at the next entry. */
  injectException(vector: number, errorCode?: number): void {
    this.view.setUint32(STATE.injectType, INJECT_EXC, true);
    this.view.setUint32(STATE.injectVector, vector, true);
    this.view.setUint32(STATE.injectHasError, errorCode === undefined ? 0 : 1, true);
    this.view.setUint32(STATE.injectError, errorCode === undefined ? 0 : errorCode >>> 0, true);
  }

  /** Moves RIP back over the instruction that exited, so a fault injected now is reported on it. */
  rewindInstruction(): void {
    const len = this.insnLen;
    if (len > 0) this.setReg('rip', this.reg('rip') - BigInt(len));
  }

  /** The paging registers the guest page walker needs. */
  pagingRegs(): { cr0: number; cr3: number; cr4: number; efer: number } {
    // Straight word reads: this runs for every guest pointer a hypercall passes.
    const w = this.words;
    return {
      cr0: w[W_CR0] + w[W_CR0 + 1] * TWO32,
      cr3: w[W_CR3] + w[W_CR3 + 1] * TWO32,
      cr4: w[W_CR4] + w[W_CR4 + 1] * TWO32,
      efer: w[W_EFER] + w[W_EFER + 1] * TWO32,
    };
  }

  private offset(name: RegName): number {
    const g = (GPR as { [k: string]: number })[name];
    if (g !== undefined) return STATE.gpr + 8 * g;
    const f = FIELDS[name];
    if (!f) throw new RangeError(`unknown register '${name}'`);
    return f[0];
  }
}
