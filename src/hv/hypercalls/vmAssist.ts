// vm_assist (hypercall 21): the assists an HVM guest may toggle, runstate_update_flag only (as Xen's HVM mask).
import { domainAbi } from '../domainAbi';
import { EINVAL, ENOSYS } from '../errno';
import type { HypercallCall } from './call';

export const HYPERVISOR_VM_ASSIST = 21;
export const VMASST_CMD_enable = 0;
export const VMASST_CMD_disable = 1;
export const VMASST_TYPE_runstate_update_flag = 5;
/** Xen's HVM_VM_ASSIST_MASK: the other assists are PV page-table tricks. */
const HVM_VM_ASSIST_MASK = 1 << VMASST_TYPE_runstate_update_flag;

/** Handles vm_assist(cmd, type): 0, -EINVAL for an assist HVM guests lack, -ENOSYS for an unknown cmd. */
export function vmAssist(c: HypercallCall): number {
  const cmd = c.u32(1);
  const type = c.u32(2);
  if (type >= 32 || !(HVM_VM_ASSIST_MASK & (1 << type))) return -EINVAL;
  const abi = domainAbi(c.domain);
  if (cmd === VMASST_CMD_enable) abi.vmAssist |= 1 << type;
  else if (cmd === VMASST_CMD_disable) abi.vmAssist &= ~(1 << type);
  else return -ENOSYS;
  return 0;
}
