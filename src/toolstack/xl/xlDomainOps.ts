// `xl destroy`, `xl pause`, `xl unpause`: by domain name or id, with xl's messages.
import { parseArgs } from '../args';
import { destroyDomain } from '../lifecycle';
import { CommandError, type Command } from '../registry';
import { findGuest, type XlContext } from '../xlContext';

function oneDomain(args: string[], usage: string, flags: Record<string, string> = {}): { dom: string; options: Record<string, string | true> } {
  const { options, positional } = parseArgs(args, { flags });
  if (positional.length !== 1) throw new CommandError(`usage: ${usage}`);
  return { dom: positional[0], options };
}

/** The `xl destroy [-f] domain` subcommand: the domain is gone at once, its memory back to the host. */
export function xlDestroyCommand(ctx: XlContext): Command {
  return {
    name: 'destroy',
    summary: 'Terminate a domain immediately',
    usage: 'xl destroy [-f] <Domain>',
    run(args) {
      const { dom } = oneDomain(args, 'xl destroy [-f] <Domain>', { f: 'force' });
      if (ctx.hv.table.find(dom)?.id === 0) throw new CommandError('Cannot destroy privileged domain 0.');
      destroyDomain(ctx, findGuest(ctx, dom, 'destroy'));
    },
    complete: () => ctx.hv.guests().map((d) => d.name),
  };
}

/** The `xl pause domain` subcommand. */
export function xlPauseCommand(ctx: XlContext): Command {
  return {
    name: 'pause',
    summary: 'Pause execution of a domain',
    usage: 'xl pause <Domain>',
    run(args) {
      ctx.hv.pause(findGuest(ctx, oneDomain(args, 'xl pause <Domain>').dom, 'pause'));
    },
    complete: () => ctx.hv.guests().map((d) => d.name),
  };
}

/** The `xl unpause domain` subcommand. */
export function xlUnpauseCommand(ctx: XlContext): Command {
  return {
    name: 'unpause',
    summary: 'Unpause a paused domain',
    usage: 'xl unpause <Domain>',
    run(args) {
      const d = findGuest(ctx, oneDomain(args, 'xl unpause <Domain>').dom, 'unpause');
      if (d.pauseCount === 0) throw new CommandError(`domain ${d.id} (${d.name}) is not paused`);
      ctx.hv.unpause(d);
    },
    complete: () => ctx.hv.guests().map((d) => d.name),
  };
}
