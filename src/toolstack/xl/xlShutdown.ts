// `xl shutdown` and `xl reboot`: ask the guest through XenStore's control/shutdown, as xl does; -w waits.
import type { GuestDomain } from '../../hv/guestDomain';
import { parseArgs } from '../args';
import { domainHome, guestHasControl } from '../domainStore';
import { CommandError, type Command, type CommandIo } from '../registry';
import { findGuest, type XlContext } from '../xlContext';

type Kind = 'poweroff' | 'reboot';

/**
 * Asks a guest to shut down or reboot: writes "poweroff"/"reboot" to its control/shutdown,
 * which a PV guest watches. A guest that never announced control/feature-poweroff (or
 * -reboot) has no PV control interface; xl then fails with its message unless -F, whose
 * fallback is an ACPI power (reset) button event. zazen emulates no ACPI hardware, so for
 * such a guest (the firmware test guests among them) -F reports that no button exists
 * either: use `xl destroy`. Returns the text xl prints.
 */
export function requestShutdown(ctx: XlContext, d: GuestDomain, kind: Kind, fallback: boolean): string {
  const word = kind === 'poweroff' ? 'shutdown' : 'reboot';
  let out = `${kind === 'poweroff' ? 'Shutting down' : 'Rebooting'} domain ${d.id}\n`;
  if (d.shutdownReason !== null) throw new CommandError(`${out}domain ${d.id} has already shut down`);
  if (!ctx.xs || !guestHasControl(ctx.xs, d, kind)) {
    const event = kind === 'poweroff' ? 'power' : 'reset';
    if (!fallback) {
      throw new CommandError(`${out}PV control interface not available: external graceful ${word} not possible.\n` +
        `Use "-F" to fallback to ACPI ${event} event.`);
    }
    out += `PV control interface not available: sending ACPI ${event} button event.\n`;
    throw new CommandError(`${out}domain ${d.id} has no ACPI ${event} button (zazen emulates no ACPI hardware): use 'xl destroy'\n${word} failed`);
  }
  ctx.xs.write(`${domainHome(d)}/control/shutdown`, kind);
  return out;
}

/** Waits until the domain shuts down or is destroyed; returns xl's message for it. */
export function waitForShutdown(d: GuestDomain): Promise<string> {
  const said = (x: GuestDomain): string =>
    x.destroyed ? `Domain ${x.id} has been destroyed.\n` : `Domain ${x.id} has been shut down, reason code ${x.shutdownReason}\n`;
  if (d.destroyed || d.shutdownReason !== null) return Promise.resolve(said(d));
  return new Promise((resolve) => d.waiters.push((x) => resolve(said(x))));
}

function command(ctx: XlContext, kind: Kind): Command {
  const name = kind === 'poweroff' ? 'shutdown' : 'reboot';
  const usage = `xl ${name} [-w] [-F] <Domain>`;
  return {
    name,
    summary: kind === 'poweroff' ? 'Issue a shutdown signal to a domain' : 'Issue a reboot signal to a domain',
    usage,
    run(args, io: CommandIo) {
      const { options, positional } = parseArgs(args, { flags: { w: 'wait', F: 'fallback' } });
      if (positional.length !== 1) throw new CommandError(`usage: ${usage}`);
      const d = findGuest(ctx, positional[0], name);
      io.write(requestShutdown(ctx, d, kind, options.fallback === true));
      if (!options.wait) return;
      io.write('Waiting for 1 domains\n');
      return waitForShutdown(d).then((t) => io.write(t));
    },
    complete: () => ctx.hv.guests().map((d) => d.name),
  };
}

/** The `xl shutdown [-w] [-F] domain` subcommand. */
export function xlShutdownCommand(ctx: XlContext): Command {
  return command(ctx, 'poweroff');
}

/** The `xl reboot [-w] [-F] domain` subcommand. */
export function xlRebootCommand(ctx: XlContext): Command {
  return command(ctx, 'reboot');
}
