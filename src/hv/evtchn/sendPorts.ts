// Sends the shim defers: which guest ports it may take EVTCHNOP_send for, and performing those sends.
import { SEND_PORTS, STATE, shim as defaultShim, type Shim } from '../abi';
import type { GuestDomain } from '../guestDomain';
import type { Hypervisor } from '../hypervisor';
import type { Vcpu } from '../vcpu';
import { EVTCHNSTAT_interdomain } from './portTable';
import { domainServices } from './services';

const W_DEFERRED = STATE.deferredSends / 4;

/** The list each domain's shim table holds, index for index. */
const lists = new WeakMap<GuestDomain, number[]>();

/**
 * Tells the shim which of d's ports it may answer EVTCHNOP_send for by itself: the
 * interdomain ports whose peer is domain 0, i.e. channels to zazen's own backends, for which
 * a send only wakes a backend that runs in TypeScript anyway (at most SEND_PORTS of them).
 * Call it whenever d's channels to domain 0 change (bind, close, reset), while none of d's
 * vCPUs is in the guest.
 */
export function syncSendPorts(hv: Hypervisor, d: GuestDomain, s: Shim = defaultShim()): void {
  const t = domainServices(hv).evtchn.table(d.id);
  const list: number[] = [];
  if (t) {
    for (const port of t.openPorts()) {
      const p = t.get(port);
      if (p.state === EVTCHNSTAT_interdomain && p.remoteDom === 0 && list.length < SEND_PORTS) list.push(port);
    }
  }
  const before = lists.get(d);
  if (before && before.length === list.length && before.every((p, i) => p === list[i])) return;
  lists.set(d, list);
  s.domainSetSendPorts(d.handle, new Uint32Array(list));
}

/**
 * Performs the sends the shim recorded for v during its last run, in port-list order, and
 * clears the record. The run loop calls it as soon as vcpuRun returns, before handling the
 * exit, so the sends happen before anything the guest did after them.
 */
export function drainDeferredSends(hv: Hypervisor, d: GuestDomain, v: Vcpu): void {
  const w = v.words;
  const lo = w[W_DEFERRED];
  const hi = w[W_DEFERRED + 1];
  if (lo === 0 && hi === 0) return;
  w[W_DEFERRED] = 0;
  w[W_DEFERRED + 1] = 0;
  const list = lists.get(d);
  if (!list) return;
  const ev = domainServices(hv).evtchn;
  for (let i = 0; i < list.length; i++) {
    const bit = i < 32 ? (lo >>> i) & 1 : (hi >>> (i - 32)) & 1;
    if (bit) ev.send(d.id, list[i]);
  }
}
