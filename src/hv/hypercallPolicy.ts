// The shim's per-domain hypercall table: which hypercalls C answers, which it forwards, which get -ENOSYS.
import { HCALL_FAST, HCALL_FORWARD } from './abi';
import { HYPERCALLS, HYPERCALL_SLOTS } from './hypercalls/dispatch';
import { HYPERVISOR_EVENT_CHANNEL_OP } from './hypercalls/eventChannelOp';
import { HYPERVISOR_SCHED_OP } from './hypercalls/schedOp';
import { HYPERVISOR_VCPU_OP } from './hypercalls/vcpuOp';
import { HYPERVISOR_XEN_VERSION, XEN_VERSION_WORD } from './hypercalls/xenVersion';

/**
 * The table for domainSetHypercalls: [2n] mode, [2n+1] data. xen_version is fast (C answers
 * XENVER_version with the data word, 4.17, and forwards the other sub-ops), sched_op is fast
 * (C ends the slice for SCHEDOP_yield and forwards the rest), event_channel_op is fast (C
 * records EVTCHNOP_send to the ports domainSetSendPorts lists and forwards everything else),
 * vcpu_op is fast (C sets and stops the calling vCPU's single-shot timer in its state page),
 * every other hypercall with a TypeScript handler (console_io, grant_table_op, vcpu_op...) is
 * forwarded, and the shim answers all the others -ENOSYS itself.
 */
export function hypercallTable(): Uint32Array {
  const t = new Uint32Array(HYPERCALL_SLOTS * 2);
  for (let nr = 0; nr < HYPERCALL_SLOTS; nr++) if (HYPERCALLS[nr]) t[2 * nr] = HCALL_FORWARD;
  t[2 * HYPERVISOR_XEN_VERSION] = HCALL_FAST;
  t[2 * HYPERVISOR_XEN_VERSION + 1] = XEN_VERSION_WORD;
  t[2 * HYPERVISOR_SCHED_OP] = HCALL_FAST;
  t[2 * HYPERVISOR_EVENT_CHANNEL_OP] = HCALL_FAST;
  t[2 * HYPERVISOR_VCPU_OP] = HCALL_FAST;
  return t;
}
