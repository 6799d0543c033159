// A hypervisor's event-channel and grant-table services, with per-domain state made on first use and torn down on destroy.
//
// Use from other parts of zazen (s = domainServices(hv)):
//   s.evtchn.allocUnbound(guest, 0) / bindInterdomain(0, guest, port) / send(0, port) / raiseVirq(guest, VIRQ_TIMER, vcpu)
//   s.backend.setHandler(localPort, fn)           a backend's handler for events on its domain-0 port
//   s.guestEvents(id).sharedInfoAddr              the shared_info frame memory_op maps (XENMAPSPACE_shared_info)
//   s.guestEvents(id).registerVcpuInfo(vcpu, gpa) VCPUOP_register_vcpu_info
//   s.gnttab.domain(id).table.frameHostAddr(idx)  a grant-table frame memory_op maps (XENMAPSPACE_grant_table),
//       then table.setFrameGfn(idx, gfn) so setup_table can report where it is
//   s.gnttab.mapGrant(0, guest, ref, readonly) / unmapGrant(handle) / copyFromGrant / copyToGrant
//   s.setUpcallHandler((d, vcpu) => ...)          inject the callback vector when upcall_pending goes 0 -> 1
import { shim } from '../abi';
import type { GuestDomain } from '../guestDomain';
import { PAGE_SIZE } from '../guestMemory';
import type { Hypervisor } from '../hypervisor';
import { GrantTable } from '../gnttab/grantTable';
import { GrantTables } from '../gnttab/grantTables';
import { BackendEvents } from './backendEvents';
import { EventChannels } from './eventChannels';
import { GuestEvents } from './guestEvents';

/** Called when a guest vCPU's evtchn_upcall_pending goes from 0 to 1: inject the callback vector. */
export type UpcallHandler = (d: GuestDomain, vcpu: number) => void;

/** Everything event channels and grants need, for one hypervisor. */
export interface DomainServices {
  evtchn: EventChannels;
  gnttab: GrantTables;
  /** Domain 0: zazen's backends register their port handlers here. */
  backend: BackendEvents;
  /** A guest's 2-level state (shared_info frame, vcpu_info locations); null for no such live guest. */
  guestEvents(domid: number): GuestEvents | null;
  /**
   * Replaces the upcall delivery. The default wakes the vCPU if it is blocked; the interrupt
   * injection code installs one that also queues the HVM_PARAM_CALLBACK_IRQ vector.
   */
  setUpcallHandler(fn: UpcallHandler): void;
}

const all = new WeakMap<Hypervisor, DomainServices>();

/** The services of hv, created on first call (and subscribed to its domains' destruction). */
export function domainServices(hv: Hypervisor): DomainServices {
  const had = all.get(hv);
  if (had) return had;
  const events = new Map<number, GuestEvents>();
  let upcall: UpcallHandler = (d, n) => {
    const v = d.vcpuList[n];
    if (v) hv.wake(v);
  };
  const live = (domid: number): GuestDomain | null => {
    const d = hv.guest(domid);
    return d && !d.destroyed && !d.dying ? d : null;
  };
  const guestEvents = (domid: number): GuestEvents | null => {
    const had = events.get(domid);
    if (had) return had;
    const d = live(domid);
    if (!d) return null;
    const ge = new GuestEvents({
      allocFrame: () => d.memory.allocFrames(1),
      physView: (a, n) => shim().physView(a, n),
      translate: (gpa) => d.memory.translate(gpa),
      vcpuCount: () => d.vcpuList.length,
      upcall: (n) => upcall(d, n),
    });
    events.set(domid, ge);
    return ge;
  };
  const backend = new BackendEvents();
  const evtchn = new EventChannels((domid) => (domid === 0 ? backend : guestEvents(domid)));
  const gnttab = new GrantTables((domid) => {
    const d = live(domid);
    if (!d) return null;
    return {
      table: new GrantTable({ allocFrame: () => d.memory.allocFrames(1), physView: (a, n) => shim().physView(a, n) }),
      pageAddr: (gfn) => (d.memory.isMapped(gfn) ? d.memory.translate(gfn * PAGE_SIZE) : null),
    };
  }, (a, n) => shim().physView(a, n));
  hv.addListener({
    destroyed: (d) => {
      evtchn.destroyDomain(d.id);
      gnttab.destroyDomain(d.id);
      events.delete(d.id);
    },
  });
  const s: DomainServices = { evtchn, gnttab, backend, guestEvents, setUpcallHandler: (fn) => (upcall = fn) };
  all.set(hv, s);
  return s;
}
