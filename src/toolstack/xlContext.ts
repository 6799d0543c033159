// What the domain-handling xl commands work with: the hypervisor, XenStore and the boot files.
import type { Domain } from '../hv/domains';
import type { GuestDomain } from '../hv/guestDomain';
import type { Hypervisor } from '../hv/hypervisor';
import type { XsClient } from '../xenstore/client';
import type { XenStore } from '../xenstore/state';
import { CommandError } from './registry';

/** The toolstack's view of the machine. */
export interface XlContext {
  hv: Hypervisor;
  /** Dom0's XenStore connection (null in tests that do without). */
  xs: XsClient | null;
  /** The host's XenStore, served to Linux guests on their XenStore ring (absent: no ring). */
  store?: XenStore | null;
  /** A boot file's bytes, or null when there is no such file. */
  readFile(path: string): Uint8Array | null;
}

/** xl's error for a name or id that matches no domain (libxl's ERROR_INVAL is -6). */
export function invalidDomain(arg: string): CommandError {
  return new CommandError(`${arg} is an invalid domain identifier (rc=-6)`);
}

/** Finds any domain (Domain-0 included) by name or id, as xl's find_domain does. */
export function findDomain(ctx: XlContext, arg: string): Domain {
  const d = ctx.hv.table.find(arg);
  if (!d) throw invalidDomain(arg);
  return d;
}

/** Finds a guest domain by name or id; Domain-0 is refused with what (e.g. "destroy"). */
export function findGuest(ctx: XlContext, arg: string, what: string): GuestDomain {
  const d = findDomain(ctx, arg);
  if (d.id === 0) throw new CommandError(`cannot ${what} Domain-0: it is zazen itself`);
  const g = ctx.hv.guest(d.id);
  if (!g) throw invalidDomain(arg);
  return g;
}

/** The absolute boot-file path for a config path: bare names live in /boot. */
export function bootPath(path: string): string {
  return path.indexOf('/') < 0 ? `/boot/${path}` : path;
}
