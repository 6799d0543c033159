// `xl console`: a domain's console log, then its output as it comes, until Ctrl-] returns to the REPL.
import { muteHypervisorConsole } from '../../hv/consoleLog';
import type { GuestDomain } from '../../hv/guestDomain';
import { parseArgs } from '../args';
import { captureInput } from '../inputCapture';
import { CommandError, type Command, type CommandIo } from '../registry';
import { findGuest, type XlContext } from '../xlContext';

/** Ctrl-]: the byte that ends a console session, as in xl (and telnet). */
export const CONSOLE_ESCAPE = '\x1d';

/**
 * Attaches the terminal to a domain's console: prints what the domain wrote so far, then
 * its output as it comes. Keystrokes other than Ctrl-] go nowhere (no console input
 * reaches guests yet). The "(dN)" echo of every domain is held back meanwhile, so the
 * session shows this domain's output alone. Resolves on Ctrl-] or when the domain is destroyed.
 */
export function attachConsole(ctx: XlContext, d: GuestDomain, io: CommandIo): Promise<void> {
  return new Promise((resolve) => {
    io.write(`Connected to domain ${d.id} (${d.name}); Ctrl-] returns to the REPL.\n`);
    const history = d.console.text();
    if (history) io.write(history);
    let done = false;
    muteHypervisorConsole(true);
    const finish = (): void => {
      if (done) return;
      done = true;
      unlisten();
      release();
      stopWatch();
      muteHypervisorConsole(false);
      io.write('\n');
      resolve();
    };
    const unlisten = d.console.listen((text) => io.write(text));
    const release = captureInput((bytes) => {
      const at = bytes.indexOf(CONSOLE_ESCAPE);
      if (at < 0) return '';
      finish();
      return bytes.slice(at + 1);
    });
    const stopWatch = ctx.hv.addListener({ destroyed: (x) => (x === d ? finish() : undefined) });
    if (d.destroyed) finish();
  });
}

/** The `xl console [-t type] [-n num] domain` subcommand. */
export function xlConsoleCommand(ctx: XlContext): Command {
  return {
    name: 'console',
    summary: 'Attach to domain\'s console',
    usage: 'xl console [-t <type>] [-n <number>] <Domain>',
    run(args, io) {
      const { options, positional } = parseArgs(args, { values: { t: 'type', n: 'num' } });
      if (positional.length !== 1) throw new CommandError('usage: xl console [-t <type>] [-n <number>] <Domain>');
      if (options.type !== undefined && options.type !== 'pv' && options.type !== 'serial') {
        throw new CommandError(`console type '${String(options.type)}' is not supported (pv or serial)`);
      }
      if (options.num !== undefined && options.num !== '0') throw new CommandError(`domain has no console number ${String(options.num)}`);
      return attachConsole(ctx, findGuest(ctx, positional[0], 'attach to the console of'), io);
    },
    complete: () => ctx.hv.guests().map((d) => d.name),
  };
}
