// The XenStore entries xl (libxl) writes for a new domain, and their removal when it is destroyed.
import type { GuestDomain } from '../hv/guestDomain';
import type { XsClient } from '../xenstore/client';

/** The domain's home: /local/domain/N. */
export function domainHome(d: { id: number }): string {
  return `/local/domain/${d.id}`;
}

/**
 * Writes the core of libxl's layout for domain N: /local/domain/N (dom0's, the guest may
 * read; nodes below inherit that) with name, domid, memory/target and static-max (KiB),
 * cpu/I/availability, and control/, owned by the guest: it answers control/shutdown there
 * and announces control/feature-poweroff/-reboot. libxl keeps control/ dom0's and creates
 * those three nodes guest-writable (six operations); a guest-owned directory gives the guest
 * the same rights over them in two. Each XenStore operation costs a few hundred thousand instructions
 * in zazen's store today and the cost of creating a domain is measured, so libxl's other
 * nodes (vm and /vm/<uuid>, data/, device/, attr/, error/, drivers/, messages/, the
 * platform features) come with the features that use them. Not in a transaction, unlike
 * libxl: the store is in-process and single-threaded, so nobody can see the entries
 * half-written, and each operation in a transaction costs about twice as much.
 */
export function writeDomainEntries(xs: XsClient, d: GuestDomain): void {
  const home = domainHome(d);
  xs.mkdir(home);
  xs.setPerms(home, ['n0', `r${d.id}`]);
  xs.write(`${home}/name`, d.name);
  xs.write(`${home}/domid`, String(d.id));
  xs.write(`${home}/memory/target`, String(d.config.memory * 1024));
  xs.write(`${home}/memory/static-max`, String(d.config.maxmem * 1024));
  for (let i = 0; i < d.config.maxvcpus; i++) xs.write(`${home}/cpu/${i}/availability`, i < d.config.vcpus ? 'online' : 'offline');
  xs.mkdir(`${home}/control`);
  xs.setPerms(`${home}/control`, [`n${d.id}`]);
}

/** Removes /local/domain/N. */
export function removeDomainEntries(xs: XsClient, d: GuestDomain): void {
  try {
    xs.rm(domainHome(d));
  } catch {
    // Already gone (someone removed it by hand): nothing to do.
  }
}

/** True when the guest announced it handles control/shutdown requests of this kind ("poweroff", "reboot"). */
export function guestHasControl(xs: XsClient, d: GuestDomain, kind: 'poweroff' | 'reboot'): boolean {
  try {
    return xs.read(`${domainHome(d)}/control/feature-${kind}`) === '1';
  } catch {
    return false;
  }
}
