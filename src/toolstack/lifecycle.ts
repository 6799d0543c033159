// Domain lifecycle as xl runs it: create (build + XenStore), destroy, and the on_poweroff/on_reboot/on_crash actions.
import type { GuestDomain } from '../hv/guestDomain';
import { SHUTDOWN_CRASH, SHUTDOWN_POWEROFF, SHUTDOWN_REBOOT, SHUTDOWN_SOFT_RESET, SHUTDOWN_SUSPEND, SHUTDOWN_WATCHDOG } from '../hv/guestDomain';
import { log } from '../hv/log';
import { buildDomain } from './domainBuilder';
import { domainHome, removeDomainEntries, writeDomainEntries } from './domainStore';
import type { DomainConfig, ShutdownAction } from './xlConfig';
import type { XlContext } from './xlContext';

/** Builds a domain, writes its XenStore entries and logs it; returns it (running unless paused). */
export function createDomain(ctx: XlContext, config: DomainConfig, paused = false): GuestDomain {
  const d = buildDomain(ctx, config, paused);
  if (ctx.xs) {
    try {
      writeDomainEntries(ctx.xs, d);
    } catch (e) {
      ctx.hv.destroy(d);
      throw e;
    }
  }
  log(`domain ${d.id} (${d.name}) created: ${config.memory} MiB, ${config.maxvcpus} vCPU(s), kernel ${config.kernel}${paused ? ', paused' : ''}`);
  return d;
}

/** Destroys a domain (its XenStore entries go with it through the monitor's listener). */
export function destroyDomain(ctx: XlContext, d: GuestDomain): void {
  ctx.hv.destroy(d);
}

/** The xl.cfg action for a shutdown reason, or null for "leave it" (suspend) and unknown reasons' destroy. */
export function actionFor(config: DomainConfig, reason: number): ShutdownAction | 'suspended' | 'unknown' {
  switch (reason) {
    case SHUTDOWN_POWEROFF:
      return config.onPoweroff;
    case SHUTDOWN_REBOOT:
      return config.onReboot;
    case SHUTDOWN_SUSPEND:
      return 'suspended';
    case SHUTDOWN_CRASH:
      return config.onCrash;
    case SHUTDOWN_WATCHDOG:
      return config.onWatchdog;
    case SHUTDOWN_SOFT_RESET:
      return config.onSoftReset;
    default:
      return 'unknown';
  }
}

/** xl's suffix for a preserved domain's new name: -YYYYMMDDTHHMMZ (UTC). */
function preserveSuffix(ms: number): string {
  const t = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `-${t.getUTCFullYear()}${p(t.getUTCMonth() + 1)}${p(t.getUTCDate())}T${p(t.getUTCHours())}${p(t.getUTCMinutes())}Z`;
}

function restart(ctx: XlContext, d: GuestDomain): void {
  const config = d.config;
  ctx.hv.destroy(d);
  try {
    const n = createDomain(ctx, config);
    log(`xl: domain ${d.id} restarted as domain ${n.id}`);
  } catch (e) {
    log(`xl: cannot restart domain '${config.name}': ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * Applies the config's action to a domain that shut down, as xl's per-domain monitor does:
 * destroy; restart (destroy, then build again from the same config: a new domid, same
 * name); rename-restart (keep the old one under name-YYYYMMDDTHHMMZ, start a new one);
 * preserve (leave it shut down for inspection); coredump-destroy/-restart (zazen writes no
 * core dumps yet: as destroy/restart); soft-reset (zazen cannot reset a domain in place yet:
 * rebuilt like restart). A suspended domain is left as it is; an unknown reason code
 * destroys the domain, as xl does.
 */
export function applyShutdownAction(ctx: XlContext, d: GuestDomain, reason: number, nowMs: number): void {
  const action = actionFor(d.config, reason);
  log(`xl: domain ${d.id} (${d.name}) has shut down, reason code ${reason}`);
  if (action === 'suspended') {
    log(`xl: domain ${d.id} has suspended`);
    return;
  }
  if (action === 'unknown') {
    log(`xl: unknown shutdown reason code ${reason}. Destroying domain.`);
    destroyDomain(ctx, d);
    return;
  }
  log(`xl: action for shutdown reason code ${reason} is ${action}`);
  switch (action) {
    case 'preserve':
      return;
    case 'destroy':
    case 'coredump-destroy':
      if (action !== 'destroy') log('xl: core dumps are not supported; no dump written');
      log(`xl: domain ${d.id} needs to be cleaned up: destroying the domain`);
      destroyDomain(ctx, d);
      return;
    case 'rename-restart': {
      const old = d.name;
      ctx.hv.table.rename(d, old + preserveSuffix(nowMs));
      if (ctx.xs) {
        try {
          ctx.xs.write(`${domainHome(d)}/name`, d.name);
        } catch {
          // The store entry is informational here; the domain table has the new name.
        }
      }
      log(`xl: preserving domain ${d.id} ${old} as ${d.name}`);
      try {
        createDomain(ctx, d.config);
      } catch (e) {
        log(`xl: cannot restart domain '${old}': ${e instanceof Error ? e.message : String(e)}`);
      }
      return;
    }
    default:
      if (action === 'coredump-restart') log('xl: core dumps are not supported; no dump written');
      if (action === 'soft-reset') log('xl: soft reset is not supported yet: rebuilding the domain from its config');
      restart(ctx, d);
  }
}

/** Installs xl's domain monitor: shutdown actions, and XenStore cleanup when a domain goes. */
export function installDomainMonitor(ctx: XlContext, nowMs: () => number): () => void {
  return ctx.hv.addListener({
    shutdown: (d, reason) => applyShutdownAction(ctx, d, reason, nowMs()),
    destroyed: (d) => {
      if (ctx.xs) removeDomainEntries(ctx.xs, d);
      log(`domain ${d.id} (${d.name}) destroyed`);
    },
  });
}
