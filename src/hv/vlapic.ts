// A virtual local APIC in x2APIC mode, one per vCPU: the MSR registers, pending interrupts, IPIs and the timer.
//
// The vCPU starts with x2APIC already enabled (APIC_BASE EN|EXTD), so Linux says "x2apic:
// enabled by BIOS" and touches only MSRs 0x800-0x83F: no MMIO decoding is needed. Register
// semantics follow the Intel SDM (vol. 3, ch. 10/11 "x2APIC") and Xen's guest_{rd,wr}msr_x2apic:
// reserved bits, writes to read-only registers, reads of write-only ones and unknown
// registers raise #GP, as on hardware. Time is always a parameter (monotonic ns), so the
// model is deterministic: the caller asks timerDeadline(now) when to come back.

import { INJECT_EXT, INJECT_NONE, MSR_FORWARD, STATE } from './abi';
import type { MsrEntry } from './msrPolicy';
import type { Vcpu } from './vcpu';
import { hex } from './hex';

export const MSR_APIC_BASE = 0x1b;
export const X2APIC_MSR_FIRST = 0x800;
export const X2APIC_MSR_LAST = 0x83f;
export const APIC_DEFAULT_BASE = 0xfee00000;
export const APIC_BASE_BSP = 1 << 8;
export const APIC_BASE_EXTD = 1 << 10;
export const APIC_BASE_EN = 1 << 11;
/** Version register: version 0x14 (integrated APIC), max LVT entry 5 (six LVTs), as Xen's VLAPIC_VERSION; no EOI-broadcast suppression. */
export const LAPIC_VERSION = 0x50014;
/** The timer counts at 1 GHz before the divider, like Xen's APIC_BUS_CYCLE_NS = 1. */
export const APIC_BUS_NS = 1;

/** Register indexes: MSR = 0x800 + index (the xAPIC MMIO offset / 16). */
export const REG = {
  ID: 0x02, VERSION: 0x03, TPR: 0x08, PPR: 0x0a, EOI: 0x0b, LDR: 0x0d, SVR: 0x0f,
  ISR: 0x10, TMR: 0x18, IRR: 0x20, ESR: 0x28, ICR: 0x30,
  LVT_TIMER: 0x32, LVT_THERMAL: 0x33, LVT_PMC: 0x34, LVT_LINT0: 0x35, LVT_LINT1: 0x36, LVT_ERROR: 0x37,
  TMICT: 0x38, TMCCT: 0x39, TDCR: 0x3e, SELF_IPI: 0x3f,
} as const;

/** ESR bits: illegal vector sent (5) and received (6). */
export const ESR_SEND_ILLEGAL = 1 << 5;
export const ESR_RECV_ILLEGAL = 1 << 6;

const LVT_MASKED = 1 << 16;
const LVT_PERIODIC = 1 << 17;
const SVR_ENABLE = 1 << 8;
const SVR_FOCUS_DISABLE = 1 << 9;
const VECTOR = 0xff;
const DELIVERY_MODE = 0x700;
// Writable bits of each LVT (delivery status, bit 12, and remote IRR, bit 14, are accepted but read-only).
// The timer offers one-shot and periodic only: TSC-deadline (bit 18) is not advertised in CPUID, so it #GPs.
const LVT_BASIC = VECTOR | (1 << 12) | LVT_MASKED;
const LVT_WRITABLE = [
  LVT_BASIC | LVT_PERIODIC,
  LVT_BASIC | DELIVERY_MODE,
  LVT_BASIC | DELIVERY_MODE,
  LVT_BASIC | DELIVERY_MODE | (1 << 13) | (1 << 14) | (1 << 15),
  LVT_BASIC | DELIVERY_MODE | (1 << 13) | (1 << 14) | (1 << 15),
  LVT_BASIC,
];
const LVT_READ_ONLY = (1 << 12) | (1 << 14);
const ICR_WRITABLE = VECTOR | DELIVERY_MODE | (1 << 11) | (1 << 14) | (1 << 15) | (3 << 18);
const TDCR_WRITABLE = 0xb;

/** An access the hardware would refuse with #GP; reason says why, for the log. */
export interface LapicFault {
  gp: true;
  reason: string;
}

function fault(reason: string): LapicFault {
  return { gp: true, reason };
}

function highest(bits: Uint32Array): number {
  for (let w = 7; w >= 0; w--) if (bits[w] !== 0) return w * 32 + 31 - Math.clz32(bits[w]);
  return -1;
}

function testBit(bits: Uint32Array, v: number): boolean {
  return (bits[v >>> 5] & (1 << (v & 31))) !== 0;
}

function setBit(bits: Uint32Array, v: number, on: boolean): void {
  if (on) bits[v >>> 5] |= 1 << (v & 31);
  else bits[v >>> 5] &= ~(1 << (v & 31));
}

/** The x2APIC logical ID: cluster (id / 16) in bits 16-31, one bit (id % 16) in 0-15. */
export function x2apicLdr(id: number): number {
  return (((id >>> 4) << 16) | (1 << (id & 15))) >>> 0;
}

/** The LAPICs of one domain, for IPIs by destination; onInterrupt(vcpuId) wakes a target vCPU. */
export class LapicBus {
  private readonly members: Vlapic[] = [];
  /** Messages about IPIs the model does not deliver (NMI, SMI, remote read...). */
  readonly ignored: string[] = [];

  constructor(readonly onInterrupt: (vcpuId: number) => void = () => undefined) {}

  /** Adds a LAPIC; its ID must be new on the bus. */
  attach(l: Vlapic): void {
    if (this.members.some((m) => m.id === l.id)) throw new RangeError(`LAPIC ID ${l.id} is already on the bus`);
    this.members.push(l);
  }

  /** The LAPIC with this ID, if any. */
  find(id: number): Vlapic | undefined {
    return this.members.find((m) => m.id === id);
  }

  /**
   * Called for INIT (vector null) and STARTUP IPIs (with their vector) to another vCPU:
   * Linux's PVH guests start secondary CPUs with INIT, SIPI, SIPI, as on Xen (interrupts.ts).
   */
  onStartup: (id: number, vector: number | null) => void = () => undefined;

  /** Delivers the IPI an ICR write (low word icr, destination dest) from `from` describes. */
  sendIpi(from: Vlapic, icr: number, dest: number): void {
    const vector = icr & VECTOR;
    const mode = (icr >>> 8) & 7;
    const shorthand = (icr >>> 18) & 3;
    if (mode === 5 || mode === 6) {
      // INIT with level de-assert (level-triggered, bit 14 clear) is a no-op on xAPICs and later.
      if (mode === 5 && icr & (1 << 15) && !(icr & (1 << 14))) return;
      for (const t of this.targets(from, shorthand, dest, icr)) if (t !== from) this.onStartup(t.id, mode === 6 ? vector : null);
      return;
    }
    // Fixed (0) and lowest-priority (1) carry a vector; NMI and SMI are not modelled.
    if (mode !== 0 && mode !== 1) {
      if (this.ignored.length < 64) this.ignored.push(`vCPU ${from.id}: ICR ${hex(icr)} dest ${hex(dest)}: delivery mode ${mode} not supported, ignored`);
      return;
    }
    if (vector < 16) {
      from.raiseError(ESR_SEND_ILLEGAL);
      return;
    }
    let targets = this.targets(from, shorthand, dest, icr);
    // Lowest priority: any one target will do; Xen also picks a single one.
    if (mode === 1) targets = targets.slice(0, 1);
    for (const t of targets) if (t.accept(vector)) this.onInterrupt(t.id);
  }

  /** The LAPICs an IPI reaches: by shorthand, broadcast, logical (cluster) or physical destination. */
  private targets(from: Vlapic, shorthand: number, dest: number, icr: number): Vlapic[] {
    let targets: Vlapic[];
    if (shorthand === 1) targets = [from];
    else if (shorthand === 2) targets = this.members.slice();
    else if (shorthand === 3) targets = this.members.filter((m) => m !== from);
    else if (dest === 0xffffffff) targets = this.members.slice();
    else if (icr & (1 << 11)) {
      const cluster = dest >>> 16;
      const mask = dest & 0xffff;
      targets = this.members.filter((m) => m.ldr >>> 16 === cluster && (m.ldr & mask) !== 0);
    } else targets = this.members.filter((m) => m.id === dest);
    return targets;
  }
}

/** One vCPU's virtual x2APIC. */
export class Vlapic {
  readonly irr = new Uint32Array(8);
  readonly isr = new Uint32Array(8);
  readonly tmr = new Uint32Array(8);
  tpr = 0;
  /** Reset value: software-disabled, spurious vector 0xFF. */
  svr = 0xff;
  esr = 0;
  icr = 0n;
  /** LVT timer, thermal, PMC, LINT0, LINT1, error: all masked at reset. */
  readonly lvt = [LVT_MASKED, LVT_MASKED, LVT_MASKED, LVT_MASKED, LVT_MASKED, LVT_MASKED];
  tmict = 0;
  tdcr = 0;
  readonly apicBase: number;
  readonly bus: LapicBus;
  private esrPending = 0;
  private timerStart = 0;
  private timerTickNs = 2 * APIC_BUS_NS;
  private nextExpiry = -1;

  /** A LAPIC for vCPU id (its APIC ID); vCPU 0 is the bootstrap processor. Without a bus it has one of its own. */
  constructor(readonly id: number, bus?: LapicBus) {
    if (!Number.isInteger(id) || id < 0 || id > 0xfffffffe) throw new RangeError(`APIC ID ${id} is not a valid x2APIC ID`);
    this.apicBase = APIC_DEFAULT_BASE + APIC_BASE_EN + APIC_BASE_EXTD + (id === 0 ? APIC_BASE_BSP : 0);
    this.bus = bus || new LapicBus();
    this.bus.attach(this);
  }

  /** The logical destination register, derived from the ID in x2APIC mode. */
  get ldr(): number {
    return x2apicLdr(this.id);
  }

  /** True when software-enabled (SVR bit 8). */
  get enabled(): boolean {
    return (this.svr & SVR_ENABLE) !== 0;
  }

  /** The processor priority: the higher of TPR and the class of the highest in-service vector. */
  get ppr(): number {
    const isrv = Math.max(highest(this.isr), 0);
    return (this.tpr & 0xf0) >= (isrv & 0xf0) ? this.tpr & 0xff : isrv & 0xf0;
  }

  /** Sets the vector's IRR bit (a fixed, edge-triggered interrupt); false if it was already pending or is illegal. */
  accept(vector: number, level = false): boolean {
    if (!Number.isInteger(vector) || vector < 0 || vector > 255) throw new RangeError(`vector ${vector} is not 0-255`);
    if (vector < 16) {
      this.raiseError(ESR_RECV_ILLEGAL);
      return false;
    }
    setBit(this.tmr, vector, level);
    if (testBit(this.irr, vector)) return false;
    setBit(this.irr, vector, true);
    return true;
  }

  /** The vector to inject next: the highest pending one whose class is above the PPR's, or -1. */
  nextInjectable(): number {
    if (!this.enabled) return -1;
    const v = highest(this.irr);
    if (v < 0 || (v & 0xf0) <= (this.ppr & 0xf0)) return -1;
    return v;
  }

  /** Records that vector was injected: IRR → ISR; false if it was not pending. */
  ack(vector: number): boolean {
    if (!Number.isInteger(vector) || vector < 16 || vector > 255 || !testBit(this.irr, vector)) return false;
    setBit(this.irr, vector, false);
    setBit(this.isr, vector, true);
    return true;
  }

  /** End of interrupt: clears the highest in-service vector and returns it (-1 if none was in service). */
  eoi(): number {
    const v = highest(this.isr);
    if (v < 0) return -1;
    setBit(this.isr, v, false);
    setBit(this.tmr, v, false);
    return v;
  }

  /** Latches an error into the ESR (seen after the next ESR write) and raises the error LVT if unmasked. */
  raiseError(bits: number): void {
    this.esrPending |= bits;
    const lvt = this.lvt[5];
    if (!(lvt & LVT_MASKED) && (lvt & VECTOR) >= 16 && this.accept(lvt & VECTOR)) this.bus.onInterrupt(this.id);
  }

  /** Reads an x2APIC MSR (0x800-0x83F) or APIC_BASE at time now (ns): the value, or a #GP fault. */
  readMsr(msr: number, now: number): bigint | LapicFault {
    if (msr === MSR_APIC_BASE) return BigInt(this.apicBase);
    const r = msr - X2APIC_MSR_FIRST;
    if (r < 0 || msr > X2APIC_MSR_LAST) return fault(`MSR ${hex(msr)} is not an x2APIC register`);
    if (r >= REG.ISR && r < REG.ISR + 8) return BigInt(this.isr[r - REG.ISR]);
    if (r >= REG.TMR && r < REG.TMR + 8) return BigInt(this.tmr[r - REG.TMR]);
    if (r >= REG.IRR && r < REG.IRR + 8) return BigInt(this.irr[r - REG.IRR]);
    if (r >= REG.LVT_TIMER && r <= REG.LVT_ERROR) return BigInt(this.lvt[r - REG.LVT_TIMER]);
    switch (r) {
      case REG.ID: return BigInt(this.id);
      case REG.VERSION: return BigInt(LAPIC_VERSION);
      case REG.TPR: return BigInt(this.tpr);
      case REG.PPR: return BigInt(this.ppr);
      case REG.LDR: return BigInt(this.ldr);
      case REG.SVR: return BigInt(this.svr);
      case REG.ESR: return BigInt(this.esr);
      case REG.ICR: return this.icr;
      case REG.TMICT: return BigInt(this.tmict);
      case REG.TMCCT: return BigInt(this.currentCount(now));
      case REG.TDCR: return BigInt(this.tdcr);
      default: return fault(`x2APIC register ${hex(msr)} is write-only or reserved`);
    }
  }

  /** Writes an x2APIC MSR or APIC_BASE at time now (ns); returns a #GP fault, or null when done. */
  writeMsr(msr: number, value: bigint, now: number): LapicFault | null {
    const v = BigInt.asUintN(64, value);
    if (msr === MSR_APIC_BASE) {
      // Only the value it has (BSP flag aside) is accepted: leaving x2APIC mode, disabling the
      // APIC or moving its base are not supported (an x2APIC→xAPIC switch #GPs on hardware too).
      const bsp = BigInt(APIC_BASE_BSP);
      if ((v & ~bsp) === (BigInt(this.apicBase) & ~bsp)) return null;
      return fault(`APIC_BASE write ${hex(v)}: only x2APIC mode at ${hex(APIC_DEFAULT_BASE)} is supported`);
    }
    const r = msr - X2APIC_MSR_FIRST;
    if (r < 0 || msr > X2APIC_MSR_LAST) return fault(`MSR ${hex(msr)} is not an x2APIC register`);
    if (r === REG.ICR) {
      const lo = Number(v & 0xffffffffn);
      if (lo & ~ICR_WRITABLE) return fault(`ICR write ${hex(v)} sets reserved bits`);
      this.icr = v;
      this.bus.sendIpi(this, lo, Number(v >> 32n));
      return null;
    }
    // Every other x2APIC register is 32 bits wide: the high half must be zero.
    if (v >> 32n) return fault(`x2APIC register ${hex(msr)} write ${hex(v)} sets bits 32-63`);
    const x = Number(v);
    if (r >= REG.LVT_TIMER && r <= REG.LVT_ERROR) {
      const i = r - REG.LVT_TIMER;
      if (x & ~LVT_WRITABLE[i]) return fault(`LVT ${hex(msr)} write ${hex(x)} sets reserved bits`);
      // A software-disabled APIC keeps every LVT masked (SDM "Local APIC State After It Has Been Software Disabled").
      this.lvt[i] = (x & ~LVT_READ_ONLY) | (this.enabled ? 0 : LVT_MASKED);
      return null;
    }
    switch (r) {
      case REG.TPR:
        if (x & ~0xff) return fault(`TPR write ${hex(x)} sets reserved bits`);
        this.tpr = x;
        return null;
      case REG.EOI:
        // x2APIC EOI takes only 0 (non-zero #GPs, SDM "x2APIC Register Availability").
        if (x !== 0) return fault(`EOI write of non-zero ${hex(x)}`);
        this.eoi();
        return null;
      case REG.SVR:
        if (x & ~(VECTOR | SVR_ENABLE | SVR_FOCUS_DISABLE)) return fault(`SVR write ${hex(x)} sets reserved bits`);
        this.svr = x;
        if (!(x & SVR_ENABLE)) for (let i = 0; i < 6; i++) this.lvt[i] |= LVT_MASKED;
        return null;
      case REG.ESR:
        // Write-then-read: the write latches the errors seen since the last one.
        if (x !== 0) return fault(`ESR write of non-zero ${hex(x)}`);
        this.esr = this.esrPending;
        this.esrPending = 0;
        return null;
      case REG.TMICT:
        this.startTimer(x, now);
        return null;
      case REG.TDCR:
        if (x & ~TDCR_WRITABLE) return fault(`divide configuration write ${hex(x)} sets reserved bits`);
        this.tdcr = x;
        return null;
      case REG.SELF_IPI:
        if (x & ~VECTOR) return fault(`SELF_IPI write ${hex(x)} sets reserved bits`);
        if (x < 16) this.raiseError(ESR_SEND_ILLEGAL);
        else if (this.accept(x)) this.bus.onInterrupt(this.id);
        return null;
      default:
        return fault(`x2APIC register ${hex(msr)} is read-only or reserved`);
    }
  }

  /** The divider TDCR selects: bits 0, 1 and 3 encode 2, 4, ... 128, and 0b111 is 1. */
  get divisor(): number {
    const code = (this.tdcr & 3) | ((this.tdcr & 8) >>> 1);
    return code === 7 ? 1 : 2 << code;
  }

  /**
   * Runs the timer up to now: when it has expired, raises the LVT timer vector (unless masked)
   * and rearms a periodic timer (missed periods collapse into one interrupt, as the IRR is one
   * bit). Returns the next expiry in ns, or -1 when the timer is stopped.
   */
  timerDeadline(now: number): number {
    if (this.nextExpiry < 0 || now < this.nextExpiry) return this.nextExpiry;
    const lvt = this.lvt[0];
    if (!(lvt & LVT_MASKED) && (lvt & VECTOR) >= 16 && this.accept(lvt & VECTOR)) this.bus.onInterrupt(this.id);
    if (lvt & LVT_PERIODIC) {
      const period = this.tmict * this.timerTickNs;
      this.nextExpiry += (Math.floor((now - this.nextExpiry) / period) + 1) * period;
    } else {
      this.nextExpiry = -1;
    }
    return this.nextExpiry;
  }

  /** The current-count register at now. */
  currentCount(now: number): number {
    if (this.tmict === 0) return 0;
    const ticks = Math.floor(Math.max(0, now - this.timerStart) / this.timerTickNs);
    if (this.lvt[0] & LVT_PERIODIC) return this.tmict - (ticks % this.tmict);
    return this.nextExpiry < 0 ? 0 : Math.max(0, this.tmict - ticks);
  }

  // Writing the initial count (re)starts the timer; 0 stops it. The divider is taken now: a
  // later TDCR write applies from the next start (Linux writes TDCR before TMICT).
  private startTimer(count: number, now: number): void {
    this.tmict = count;
    this.timerStart = now;
    this.timerTickNs = this.divisor * APIC_BUS_NS;
    this.nextExpiry = count === 0 ? -1 : now + count * this.timerTickNs;
  }
}

/** True when a readMsr/writeMsr answer is a #GP fault. */
export function isFault(x: unknown): x is LapicFault {
  return typeof x === 'object' && x !== null && (x as LapicFault).gp === true;
}

/** True for the MSRs the vLAPIC serves: APIC_BASE and the x2APIC range 0x800-0x83F. */
export function isLapicMsr(msr: number): boolean {
  return msr === MSR_APIC_BASE || (msr >= X2APIC_MSR_FIRST && msr <= X2APIC_MSR_LAST);
}

/** MSR-policy rows forwarding APIC_BASE and 0x800-0x83F to TypeScript (MSR_FORWARD), to replace buildMsrPolicy's APIC_BASE row. */
export function lapicMsrEntries(): MsrEntry[] {
  const out: MsrEntry[] = [{ msr: MSR_APIC_BASE, action: MSR_FORWARD, value: 0n }];
  for (let msr = X2APIC_MSR_FIRST; msr <= X2APIC_MSR_LAST; msr++) out.push({ msr, action: MSR_FORWARD, value: 0n });
  return out;
}

const VEC_GP = 13;

/**
 * Serves a forwarded MSR exit (state page: qual0 the MSR, qual1 1 for WRMSR, qual2 the value;
 * RIP already past the instruction) on the vCPU's LAPIC at time now. A read puts the value in
 * EDX:EAX (upper halves zeroed, as RDMSR does); a fault rewinds RIP and injects #GP(0).
 * Returns false, touching nothing, when the MSR is not a LAPIC MSR; else the fault reason or ''.
 */
export function handleLapicMsrExit(lapic: Vlapic, v: Vcpu, now: number): string | false {
  const msr = v.qual(0);
  if (!isLapicMsr(msr)) return false;
  const write = v.qual(1) === 1;
  let result: bigint | LapicFault | null;
  if (write) {
    const [lo, hi] = v.qualHalves(2);
    result = lapic.writeMsr(msr, (BigInt(hi) << 32n) | BigInt(lo), now);
  } else {
    result = lapic.readMsr(msr, now);
  }
  if (isFault(result)) {
    v.rewindInstruction();
    v.injectException(VEC_GP, 0);
    return result.reason;
  }
  if (typeof result === 'bigint') {
    v.setGprHalves(0, Number(result & 0xffffffffn), 0);
    v.setGprHalves(2, Number(result >> 32n), 0);
  }
  return '';
}

/**
 * Hands the LAPIC's next injectable vector to the shim as an external interrupt, when the
 * state page's injection slot is free (the shim delivers it once RFLAGS.IF allows, using an
 * interrupt window); the vector moves IRR → ISR at once, as Xen acks when it injects.
 * Returns the vector queued, or -1.
 */
export function injectPending(lapic: Vlapic, v: Vcpu): number {
  if (v.view.getUint32(STATE.injectType, true) !== INJECT_NONE) return -1;
  const vector = lapic.nextInjectable();
  if (vector < 0) return -1;
  lapic.ack(vector);
  v.view.setUint32(STATE.injectType, INJECT_EXT, true);
  v.view.setUint32(STATE.injectVector, vector, true);
  v.view.setUint32(STATE.injectHasError, 0, true);
  v.view.setUint32(STATE.injectError, 0, true);
  return vector;
}
