// event_channel_op (hypercall 32): the 2-level EVTCHNOP_* sub-ops on the calling domain's ports.
import { syncSendPorts } from '../evtchn/sendPorts';
import { EFAULT, EINVAL, ENOSYS, EPERM } from '../errno';
import { domainServices } from '../evtchn/services';
import { EVTCHNSTAT_interdomain, EVTCHNSTAT_unbound, EVTCHNSTAT_virq } from '../evtchn/portTable';
import { ESRCH } from '../errno';
import type { HypercallCall } from './call';

export const HYPERVISOR_EVENT_CHANNEL_OP = 32;
/** domid_t meaning "the calling domain". */
export const DOMID_SELF = 0x7ff0;

const OP_bind_interdomain = 0;
const OP_bind_virq = 1;
const OP_bind_pirq = 2;
const OP_close = 3;
const OP_send = 4;
const OP_status = 5;
const OP_alloc_unbound = 6;
const OP_bind_ipi = 7;
const OP_bind_vcpu = 8;
const OP_unmask = 9;
const OP_reset = 10;
const OP_init_control = 11;
const OP_expand_array = 12;
const OP_set_priority = 13;
const OP_reset_cont = 14;
/** Argument struct sizes by sub-op (public/event_channel.h). */
const SIZES = [12, 12, 12, 4, 4, 24, 8, 8, 8, 4, 2, 24, 8, 8, 2];

/**
 * The domain a domU may name in dom: itself (DOMID_SELF or its own id). Another live domain is
 * refused with -EPERM (Xen's default XSM policy) and an unknown one with -ESRCH.
 */
export function ownDomain(c: HypercallCall, dom: number): number {
  if (dom === DOMID_SELF || dom === c.domain.id) return c.domain.id;
  return dom === 0 || c.hv.guest(dom) ? -EPERM : -ESRCH;
}

/** Handles event_channel_op(cmd, arg). */
export function eventChannelOp(c: HypercallCall): number {
  const cmd = c.int(1);
  const ret = channelOp(c, cmd);
  // Channels to zazen's backends may have come or gone: the shim's list of sends it may take follows.
  if (cmd === OP_bind_interdomain || cmd === OP_close || cmd === OP_reset || cmd === OP_reset_cont) syncSendPorts(c.hv, c.domain);
  return ret;
}

function channelOp(c: HypercallCall, cmd: number): number {
  // FIFO and priorities do not exist: Linux falls back to the 2-level ABI on -ENOSYS.
  if (cmd === OP_init_control || cmd === OP_expand_array || cmd === OP_set_priority) return -ENOSYS;
  if (cmd < 0 || cmd >= SIZES.length) return -ENOSYS;
  const arg = c.ptr(2);
  if (arg === null) return -EFAULT;
  const bytes = c.copyIn(arg, SIZES[cmd]);
  const a = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ev = domainServices(c.hv).evtchn;
  const self = c.domain.id;
  /** Writes a result port at off and the struct back, as Xen copies the whole struct out. */
  const give = (port: number, off: number): number => {
    if (port < 0) return port;
    a.setUint32(off, port, true);
    c.copyOut(arg, bytes);
    return 0;
  };
  switch (cmd) {
    case OP_alloc_unbound: {
      const dom = ownDomain(c, a.getUint16(0, true));
      if (dom < 0) return dom;
      const remote = a.getUint16(2, true);
      return give(ev.allocUnbound(dom, remote === DOMID_SELF ? self : remote), 4);
    }
    case OP_bind_interdomain: {
      const remote = a.getUint16(0, true);
      return give(ev.bindInterdomain(self, remote === DOMID_SELF ? self : remote, a.getUint32(4, true)), 8);
    }
    case OP_bind_virq:
      return give(ev.bindVirq(self, a.getUint32(0, true), a.getUint32(4, true)), 8);
    case OP_bind_ipi:
      return give(ev.bindIpi(self, a.getUint32(0, true)), 4);
    case OP_close:
      return ev.close(self, a.getUint32(0, true));
    case OP_send:
      return ev.send(self, a.getUint32(0, true));
    case OP_unmask:
      return ev.unmask(self, a.getUint32(0, true));
    case OP_bind_vcpu:
      return ev.bindVcpu(self, a.getUint32(0, true), a.getUint32(4, true));
    case OP_status:
      return status(c, a, bytes, arg);
    case OP_reset:
    case OP_reset_cont: {
      const dom = ownDomain(c, a.getUint16(0, true));
      return dom < 0 ? dom : ev.reset(dom);
    }
    case OP_bind_pirq:
      // A PVH domU has no physical IRQs to bind.
      return -EINVAL;
    default:
      return -ENOSYS;
  }
}

/** EVTCHNOP_status: fills status, vcpu and the union ({dom} unbound, {dom, port} interdomain, virq). */
function status(c: HypercallCall, a: DataView, bytes: Uint8Array, arg: number): number {
  const dom = ownDomain(c, a.getUint16(0, true));
  if (dom < 0) return dom;
  const st = domainServices(c.hv).evtchn.status(dom, a.getUint32(4, true));
  if (typeof st === 'number') return st;
  a.setUint32(8, st.status, true);
  a.setUint32(12, st.vcpu, true);
  bytes.fill(0, 16, 24);
  if (st.status === EVTCHNSTAT_unbound || st.status === EVTCHNSTAT_interdomain) {
    a.setUint16(16, st.remoteDom, true);
    if (st.status === EVTCHNSTAT_interdomain) a.setUint32(20, st.remotePort, true);
  } else if (st.status === EVTCHNSTAT_virq) {
    a.setUint32(16, st.virq, true);
  }
  c.copyOut(arg, bytes);
  return 0;
}
