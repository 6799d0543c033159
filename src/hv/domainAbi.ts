// Per-domain Xen ABI state a guest sets or reads through hypercalls: HVM params, vm_assist bits, mapped special frames.
import type { GuestDomain } from './guestDomain';

/** HVM_NR_PARAMS in Xen 4.17: params 0 to 38 exist, higher indexes are -EINVAL. */
export const HVM_NR_PARAMS = 39;
export const HVM_PARAM_CALLBACK_IRQ = 0;
export const HVM_PARAM_STORE_PFN = 1;
export const HVM_PARAM_STORE_EVTCHN = 2;
export const HVM_PARAM_CONSOLE_PFN = 17;
export const HVM_PARAM_CONSOLE_EVTCHN = 18;
/** CALLBACK_IRQ's type field (bits 63:56): 2 = deliver events through an IDT vector. */
export const HVM_PARAM_CALLBACK_TYPE_VECTOR = 2;

/** What one domain has set through the Xen ABI. */
export class DomainAbi {
  /** HVM params by index, as u64 values (unset ones read 0, as in Xen). */
  readonly params: bigint[] = [];
  /** VMASST_TYPE_* bits the guest enabled. */
  vmAssist = 0;
  /** The gfn shared_info is mapped at, or null before XENMAPSPACE_shared_info. */
  sharedInfoGfn: number | null = null;

  /** Reads param index (0 when unset). */
  param(index: number): bigint {
    return this.params[index] ?? 0n;
  }

  /** The callback vector from CALLBACK_IRQ when it is of the vector type, else null. */
  callbackVector(): number | null {
    const v = this.param(HVM_PARAM_CALLBACK_IRQ);
    if (v >> 56n !== BigInt(HVM_PARAM_CALLBACK_TYPE_VECTOR)) return null;
    const vector = Number(v & 0xffn);
    // Vectors below 16 are exceptions; Xen refuses them as callback vectors.
    return vector >= 16 ? vector : null;
  }
}

const all = new WeakMap<GuestDomain, DomainAbi>();

/** The domain's ABI state, created on first use. */
export function domainAbi(d: GuestDomain): DomainAbi {
  let a = all.get(d);
  if (!a) {
    a = new DomainAbi();
    all.set(d, a);
  }
  return a;
}
