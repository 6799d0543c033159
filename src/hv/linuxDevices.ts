// A Linux PVH domain's PV devices: the console and XenStore rings on their special pages, with event channels to domain 0.
//
// Like libxl, each ring gets a guest port allocated unbound for domain 0 and bound by zazen's
// backend (xenconsoled's and xenstored's role); the guest finds page and port in the HVM params
// STORE_PFN/STORE_EVTCHN and CONSOLE_PFN/CONSOLE_EVTCHN. A guest EVTCHNOP_send on either port
// calls the backend synchronously (domain 0's ports call JS handlers), which drains the ring.
import { ConsoleBackend } from '../drivers/consoleBackend';
import { disconnect } from '../xenstore/domains';
import { RingConnection } from '../xenstore/ring';
import type { XenStore } from '../xenstore/state';
import { shim } from './abi';
import { domainAbi, HVM_PARAM_CONSOLE_EVTCHN, HVM_PARAM_CONSOLE_PFN, HVM_PARAM_STORE_EVTCHN, HVM_PARAM_STORE_PFN } from './domainAbi';
import { domainServices } from './evtchn/services';
import type { GuestDomain } from './guestDomain';
import { PAGE_SIZE } from './guestMemory';
import type { Hypervisor } from './hypervisor';
import { log } from './log';

/** The backends attached to one domain. */
export interface LinuxDevices {
  console: ConsoleBackend;
  store: RingConnection | null;
  /** The guest's ports (what the HVM params hold). */
  consolePort: number;
  storePort: number;
}

/** The devices of each live Linux domain, so that `xl console` can reach the console's input half. */
const attached = new WeakMap<GuestDomain, LinuxDevices>();

/** The PV devices attached to d, or undefined for a domain without them (a plain PVH guest) or once it is destroyed. */
export function linuxDevicesOf(d: GuestDomain): LinuxDevices | undefined {
  return attached.get(d);
}

/** Binds a guest port (unbound for domain 0) to a new domain-0 port with handler fn; returns both ports. */
function connectPort(hv: Hypervisor, d: GuestDomain, fn: () => void): { guest: number; local: number } {
  const s = domainServices(hv);
  const guest = s.evtchn.allocUnbound(d.id, 0);
  const local = s.evtchn.bindInterdomain(0, d.id, guest);
  s.backend.setHandler(local, () => fn());
  return { guest, local };
}

/** A DataView of the guest page at gfn (a special page the builder populated). */
function pageView(d: GuestDomain, gfn: number): DataView {
  return new DataView(shim().physView(d.memory.translate(gfn * PAGE_SIZE), PAGE_SIZE));
}

/**
 * Attaches the console ring (output to the domain's console log, which `xl console` shows)
 * and, when store is given, the XenStore ring, and sets the four HVM params. The domain must
 * already be registered with hv. Domain 0's ports and the XenStore connection close when the domain is destroyed.
 */
export function attachLinuxDevices(hv: Hypervisor, d: GuestDomain, gfns: { console: number; xenstore: number }, store: XenStore | null): LinuxDevices {
  const s = domainServices(hv);
  const consolePage = pageView(d, gfns.console);
  let backend: ConsoleBackend | null = null;
  const con = connectPort(hv, d, () => backend?.kick());
  backend = new ConsoleBackend(consolePage, {
    notify: () => s.evtchn.send(0, con.local),
    sink: (bytes) => d.console.write(bytes, true),
    log: (line) => log(`domain ${d.id}: ${line}`),
    name: `d${d.id} console`,
  });
  const abi = domainAbi(d);
  abi.params[HVM_PARAM_CONSOLE_PFN] = BigInt(gfns.console);
  abi.params[HVM_PARAM_CONSOLE_EVTCHN] = BigInt(con.guest);
  const localPorts = [con.local];

  let ring: RingConnection | null = null;
  let storePort = 0;
  if (store) {
    const st = connectPort(hv, d, () => ring?.kick());
    ring = new RingConnection(store, d.id, pageView(d, gfns.xenstore), () => s.evtchn.send(0, st.local));
    storePort = st.guest;
    // Watch events caused by other connections (xl writing control/shutdown) are only queued
    // by the ring; push them out soon after, outside the writer's dispatch.
    const r = ring;
    const queue = r.conn.sink;
    let scheduled = false;
    r.conn.sink = (m) => {
      queue(m);
      if (scheduled) return;
      scheduled = true;
      queueMicrotask(() => {
        scheduled = false;
        if (!d.destroyed) r.kick();
      });
    };
    abi.params[HVM_PARAM_STORE_PFN] = BigInt(gfns.xenstore);
    abi.params[HVM_PARAM_STORE_EVTCHN] = BigInt(st.guest);
    localPorts.push(st.local);
  }
  const conn = ring ? ring.conn : null;
  // On destroy the guest's ports close first (services' listener is older), leaving ours
  // unbound: close them too, dropping their handlers, and leave the store.
  const unlisten = hv.addListener({
    destroyed: (x) => {
      if (x !== d) return;
      unlisten();
      attached.delete(d);
      for (const port of localPorts) s.evtchn.close(0, port, true);
      if (store && conn) disconnect(store, conn);
    },
  });
  const devices = { console: backend, store: ring, consolePort: con.guest, storePort };
  attached.set(d, devices);
  return devices;
}
