// sched_op (hypercall 29): yield, block, shutdown, shutdown_code and poll; the rest as a domU sees them under Xen.
import { EFAULT, EINVAL, ENOSYS, EPERM } from '../errno';
import { domainServices } from '../evtchn/services';
import { SHINFO_EVTCHN_PENDING, testBit } from '../evtchn/twoLevel';
import { linearFromHalves } from '../guestPageWalk';
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
      // Waits for an event: an upcall, a timer or an IPI wakes the vCPU (RunLoop).
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
      return poll(c);
    case SCHEDOP_watchdog:
      // Needs a watchdog timer, which zazen does not have yet.
      return -ENOSYS;
    default:
      return -ENOSYS;
  }
}

/** Xen refuses to poll more ports than this at once (do_poll). */
const POLL_MAX_PORTS = 128;

/**
 * SCHEDOP_poll {evtchn_port_t *ports; unsigned int nr_ports; u64 timeout}: returns 0 at once
 * when one of the ports is pending (masked or not), as Xen does. Otherwise Xen sleeps until
 * one is or the timeout passes; here the vCPU yields its slice and the call returns 0 early,
 * an early wake-up its callers must already tolerate (Linux's PV spinlock slow path, the
 * one user, re-checks its lock and polls again), so the lock holder gets to run.
 */
function poll(c: HypercallCall): number {
  const p = c.ptr(2);
  if (p === null) return -EFAULT;
  // 64-bit: an 8-byte handle then nr_ports; the 32-bit ABI packs a 4-byte handle.
  const a = c.copyIn(p, c.long64 ? 16 : 8);
  const dv = new DataView(a.buffer, a.byteOffset, a.byteLength);
  const ports = c.long64 ? linearFromHalves(dv.getUint32(0, true), dv.getUint32(4, true)) : dv.getUint32(0, true);
  const n = dv.getUint32(c.long64 ? 8 : 4, true);
  if (n > POLL_MAX_PORTS) return -EINVAL;
  if (ports === null) return -EFAULT;
  const ge = domainServices(c.hv).guestEvents(c.domain.id);
  if (!ge) return -EINVAL;
  const list = n > 0 ? c.copyIn(ports, 4 * n) : new Uint8Array(0);
  const lv = new DataView(list.buffer, list.byteOffset, list.byteLength);
  const shared = ge.sharedInfo();
  let pending = false;
  for (let i = 0; i < n; i++) {
    const port = lv.getUint32(4 * i, true);
    if (port > ge.maxPort) return -EINVAL;
    if (testBit(shared, SHINFO_EVTCHN_PENDING, port)) pending = true;
  }
  if (!pending) c.endSlice = true;
  return 0;
}

