// sched_op (hypercall 29): yield, block, shutdown and shutdown_code; the rest as a domU sees them under Xen.
import { EFAULT, ENOSYS, EPERM } from '../errno';
import type { HypercallCall } from './call';

export const HYPERVISOR_SCHED_OP = 29;
const SCHEDOP_yield = 0;
const SCHEDOP_block = 1;
const SCHEDOP_shutdown = 2;
const SCHEDOP_poll = 3;
const SCHEDOP_remote_shutdown = 4;
const SCHEDOP_shutdown_code = 5;
const SCHEDOP_watchdog = 6;
const SCHEDOP_pin_override = 7;

/** Reads struct sched_shutdown { unsigned int reason; } at the argument pointer. */
function reasonArg(c: HypercallCall): number | null {
  const p = c.ptr(2);
  if (p === null) return null;
  const b = c.copyIn(p, 4);
  return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
}

/** Handles sched_op(cmd, arg). */
export function schedOp(c: HypercallCall): number {
  switch (c.int(1)) {
    case SCHEDOP_yield:
      c.endSlice = true;
      return 0;
    case SCHEDOP_block:
      // Waits for an event. zazen has no event channels or guest timers yet, so the vCPU
      // sleeps until the toolstack unpauses the domain (see Hypervisor.unpause).
      c.hv.block(c.vcpu);
      c.endSlice = true;
      return 0;
    case SCHEDOP_shutdown: {
      const reason = reasonArg(c);
      if (reason === null) return -EFAULT;
      // Xen takes the reason as a u8 and keeps a code latched earlier.
      c.hv.shutdown(c.domain, reason & 0xff);
      c.endSlice = true;
      return 0;
    }
    case SCHEDOP_shutdown_code: {
      const code = reasonArg(c);
      if (code === null) return -EFAULT;
      // The first code latched wins; it becomes the reason of the next shutdown (Xen's common/sched/core.c).
      if (c.domain.shutdownCode === null) c.domain.shutdownCode = code & 0xff;
      return 0;
    }
    case SCHEDOP_remote_shutdown:
    case SCHEDOP_pin_override:
      // Device-model and hardware-domain operations: refused to a plain domU.
      return -EPERM;
    case SCHEDOP_poll:
    case SCHEDOP_watchdog:
      // Need event channels and a watchdog timer, which zazen does not have yet.
      return -ENOSYS;
    default:
      return -ENOSYS;
  }
}
