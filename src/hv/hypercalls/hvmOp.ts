// hvm_op (hypercall 34): HVMOP_set_param / get_param on the caller's own HVM params (callback vector, store and console).
import { domainAbi, HVM_NR_PARAMS, HVM_PARAM_CALLBACK_IRQ, HVM_PARAM_CALLBACK_TYPE_VECTOR } from '../domainAbi';
import { EFAULT, EINVAL, ENOSYS, EPERM } from '../errno';
import type { HypercallCall } from './call';
import { selfDomain } from './memoryOp';

export const HYPERVISOR_HVM_OP = 34;
export const HVMOP_set_param = 0;
export const HVMOP_get_param = 1;
/** sizeof(struct xen_hvm_param): u16 domid, u16 pad, u32 index, u64 value (the same in both ABIs). */
const PARAM_SIZE = 16;

/** Checks a CALLBACK_IRQ value: 0 (off) or the vector type with a vector of 16 and up. */
function callbackValid(value: bigint): boolean {
  if (value === 0n) return true;
  // zazen has no IOAPIC or PCI INTx to route a GSI callback through: only the vector type exists.
  if (value >> 56n !== BigInt(HVM_PARAM_CALLBACK_TYPE_VECTOR)) return false;
  // Bits 55:8 are unused by the vector type; vectors 0-15 are exceptions, not interrupts.
  return (value & 0x00ffffffffffff00n) === 0n && (value & 0xffn) >= 16n;
}

/** Handles hvm_op(op, arg): returns 0 or -errno. */
export function hvmOp(c: HypercallCall): number {
  const op = c.u32(1);
  if (op !== HVMOP_set_param && op !== HVMOP_get_param) return -ENOSYS;
  const arg = c.ptr(2);
  if (arg === null) return -EFAULT;
  const bytes = c.copyIn(arg, PARAM_SIZE);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const d = selfDomain(c, dv.getUint16(0, true));
  if (typeof d === 'number') return d;
  const index = dv.getUint32(4, true);
  if (index >= HVM_NR_PARAMS) return -EINVAL;
  const abi = domainAbi(d);
  if (op === HVMOP_get_param) {
    dv.setBigUint64(8, abi.param(index), true);
    c.copyOut(arg + 8, bytes.subarray(8, 16));
    return 0;
  }
  // The toolstack sets every other param (store, console, ...); a guest may set only its callback.
  if (index !== HVM_PARAM_CALLBACK_IRQ) return -EPERM;
  const value = dv.getBigUint64(8, true);
  if (!callbackValid(value)) return -EINVAL;
  // interrupts.ts reads the param at every entry: an upcall already pending goes in at the next one.
  abi.params[index] = value;
  return 0;
}
