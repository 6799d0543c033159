// One hypercall in progress: arguments in either register convention, guest copies, and what it asks of the loop.
import { copyFromGuest, copyToGuest, linearFromHalves } from '../guestPageWalk';
import type { GuestDomain } from '../guestDomain';
import type { Hypervisor } from '../hypervisor';
import type { Vcpu } from '../vcpu';

/** Argument registers (x86 GPR indexes) of the 64-bit ABI: RDI, RSI, RDX, R10, R8. */
const ARGS64 = [7, 6, 2, 10, 8];
/** Of the 32-bit ABI: EBX, ECX, EDX, ESI, EDI. */
const ARGS32 = [3, 1, 2, 6, 7];
const TWO32 = 4294967296;

/**
 * A hypercall being handled. The run loop fills one instance per exit and reuses it, so
 * handlers must not keep it. Pointer arguments are guest-linear addresses, walked through
 * the guest's own page tables; a copy that faults throws GuestFaultError (-EFAULT).
 */
export class HypercallCall {
  hv!: Hypervisor;
  domain!: GuestDomain;
  vcpu!: Vcpu;
  /** True for the 64-bit convention (the guest was in 64-bit mode). */
  long64 = true;
  nr = 0;
  /** Set by a handler when the vCPU must stop running now (yield, block, shutdown). */
  endSlice = false;

  /** Fills the call from the vCPU's registers. */
  reset(hv: Hypervisor, d: GuestDomain, v: Vcpu, long64: boolean): void {
    this.hv = hv;
    this.domain = d;
    this.vcpu = v;
    this.long64 = long64;
    this.nr = long64 && v.gprHi(0) !== 0 ? -1 : v.gprLo(0);
    this.endSlice = false;
  }

  /** Argument i (1-5): its low 32 bits, unsigned (C's unsigned int). */
  u32(i: number): number {
    return this.vcpu.gprLo((this.long64 ? ARGS64 : ARGS32)[i - 1]);
  }

  /** Argument i as a signed 32-bit int (C's int, e.g. a sub-op). */
  int(i: number): number {
    return this.u32(i) | 0;
  }

  /** Argument i as an unsigned long: the full register in 64-bit mode; null if not exact (2^53 and up). */
  ulong(i: number): number | null {
    const r = (this.long64 ? ARGS64 : ARGS32)[i - 1];
    if (!this.long64) return this.vcpu.gprLo(r);
    const hi = this.vcpu.gprHi(r);
    return hi >= 0x200000 ? null : hi * TWO32 + this.vcpu.gprLo(r);
  }

  /** Argument i as a guest-linear pointer; null when it is not canonical. */
  ptr(i: number): number | null {
    const r = (this.long64 ? ARGS64 : ARGS32)[i - 1];
    if (!this.long64) return this.vcpu.gprLo(r);
    return linearFromHalves(this.vcpu.gprLo(r), this.vcpu.gprHi(r));
  }

  /** Copies len bytes in from guest-linear gla. */
  copyIn(gla: number, len: number): Uint8Array {
    return copyFromGuest(this.domain.memory, this.vcpu.pagingRegs(), gla, len);
  }

  /** Copies bytes out to guest-linear gla. */
  copyOut(gla: number, bytes: Uint8Array): void {
    copyToGuest(this.domain.memory, this.vcpu.pagingRegs(), gla, bytes);
  }

  /** Stores the return value in RAX as the guest's mode reads it (32-bit: EAX only). */
  setResult(value: number): void {
    const lo = value >>> 0;
    const hi = !this.long64 ? 0 : value < 0 ? (Math.floor(value / TWO32) >>> 0) : Math.floor(value / TWO32);
    this.vcpu.setGprHalves(0, lo, hi);
  }
}
