// The hypercall table: forwarded hypercalls by number, decoded in either convention, errors as -errno.
import { log } from '../log';
import { GuestFaultError } from '../guestPageWalk';
import { GuestMemoryError } from '../guestMemory';
import { EFAULT, EINVAL, ENOSYS } from '../errno';
import type { GuestDomain } from '../guestDomain';
import type { Hypervisor } from '../hypervisor';
import type { Vcpu } from '../vcpu';
import { HypercallCall } from './call';
import { consoleIo, HYPERVISOR_CONSOLE_IO } from './consoleIo';
import { eventChannelOp, HYPERVISOR_EVENT_CHANNEL_OP } from './eventChannelOp';
import { grantTableOp, HYPERVISOR_GRANT_TABLE_OP } from './grantTableOp';
import { HYPERVISOR_HVM_OP, hvmOp } from './hvmOp';
import { HYPERVISOR_MEMORY_OP, memoryOp } from './memoryOp';
import { HYPERVISOR_SCHED_OP, schedOp } from './schedOp';
import { HYPERVISOR_VCPU_OP, vcpuOp } from './vcpuOp';
import { HYPERVISOR_VM_ASSIST, vmAssist } from './vmAssist';
import { HYPERVISOR_XEN_VERSION, xenVersion } from './xenVersion';

/** A hypercall handler: returns the value for RAX. */
export type HypercallHandler = (c: HypercallCall) => number;

/** Hypercall numbers the shim's table has 64 entries for. */
export const HYPERCALL_SLOTS = 64;

/** Handlers by hypercall number; the rest answer -ENOSYS. */
export const HYPERCALLS: (HypercallHandler | undefined)[] = [];
HYPERCALLS[HYPERVISOR_XEN_VERSION] = xenVersion;
HYPERCALLS[HYPERVISOR_CONSOLE_IO] = consoleIo;
HYPERCALLS[HYPERVISOR_SCHED_OP] = schedOp;
HYPERCALLS[HYPERVISOR_GRANT_TABLE_OP] = grantTableOp;
HYPERCALLS[HYPERVISOR_EVENT_CHANNEL_OP] = eventChannelOp;
HYPERCALLS[HYPERVISOR_VCPU_OP] = vcpuOp;
HYPERCALLS[HYPERVISOR_MEMORY_OP] = memoryOp;
HYPERCALLS[HYPERVISOR_HVM_OP] = hvmOp;
HYPERCALLS[HYPERVISOR_VM_ASSIST] = vmAssist;

const call = new HypercallCall();

/**
 * Handles a forwarded hypercall exit and writes RAX. Returns true when the vCPU may go on
 * running, false when the handler ended its slice (yield, block, shutdown). Nothing a guest
 * passes can throw out of here: bad pointers give -EFAULT, anything unexpected -EINVAL.
 */
export function dispatchHypercall(hv: Hypervisor, d: GuestDomain, v: Vcpu, long64: boolean): boolean {
  call.reset(hv, d, v, long64);
  const nr = call.nr;
  const h = nr >= 0 && nr < HYPERCALL_SLOTS ? HYPERCALLS[nr] : undefined;
  let ret: number;
  if (h === undefined) {
    ret = -ENOSYS;
  } else {
    try {
      ret = h(call);
    } catch (e) {
      if (e instanceof GuestFaultError || e instanceof GuestMemoryError) {
        ret = -EFAULT;
      } else {
        log(`domain ${d.id} vcpu ${v.id}: hypercall ${nr} failed: ${e instanceof Error ? e.message : String(e)}`);
        ret = -EINVAL;
      }
    }
  }
  call.setResult(ret);
  return !call.endSlice;
}
