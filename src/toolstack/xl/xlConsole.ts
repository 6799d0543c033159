// `xl console`: a domain's console log, then its output as it comes, keystrokes to its console ring, until Ctrl-] returns to the REPL.
import { muteHypervisorConsole } from '../../hv/consoleLog';
import type { GuestDomain } from '../../hv/guestDomain';
import { linuxDevicesOf } from '../../hv/linuxDevices';
import { parseArgs } from '../args';
import { captureInput } from '../inputCapture';
import { CommandError, type Command, type CommandIo } from '../registry';
import { findGuest, type XlContext } from '../xlContext';

/** Ctrl-]: the byte that ends a console session, as in xl (and telnet). */
export const CONSOLE_ESCAPE = '\x1d';

/** Where typed bytes go: the domain's console ring (its in[] half), or nowhere for a guest without one. */
export interface ConsoleInput {
  /** Queues bytes for the guest; returns how many were taken (the rest were dropped). */
  write(bytes: Uint8Array): number;
}

/** The console input of d: its console backend for a domain with a console ring, else null. */
export function consoleInputOf(d: GuestDomain): ConsoleInput | null {
  return linuxDevicesOf(d)?.console ?? null;
}

/** The terminal's input as bytes: the shim hands each byte over as one char code 0-255. */
export function inputBytes(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
  return bytes;
}

/**
 * Attaches the terminal to a domain's console: prints what the domain wrote so far, then
 * its output as it comes, and sends every keystroke but Ctrl-] to the guest's console ring
 * as typed (Enter is '\r', which the guest's tty turns into '\n', as under xenconsoled);
 * a guest without a ring (console_io only) gets none. The "(dN)" echo of every domain is
 * held back meanwhile, so the session shows this domain's output alone. Resolves on Ctrl-]
 * or when the domain is destroyed.
 */
export function attachConsole(ctx: XlContext, d: GuestDomain, io: CommandIo): Promise<void> {
  return new Promise((resolve) => {
    io.write(`Connected to domain ${d.id} (${d.name}); Ctrl-] returns to the REPL.\n`);
    const history = d.console.text();
    if (history) io.write(history);
    let done = false;
    let dropped = 0;
    const input = consoleInputOf(d);
    muteHypervisorConsole(true);
    const finish = (): void => {
      if (done) return;
      done = true;
      unlisten();
      release();
      stopWatch();
      muteHypervisorConsole(false);
      io.write('\n');
      if (dropped > 0) io.write(`(${dropped} bytes of input were dropped: domain ${d.id} is not reading its console)\n`);
      resolve();
    };
    const unlisten = d.console.listen((text) => io.write(text), true);
    const release = captureInput((bytes) => {
      const at = bytes.indexOf(CONSOLE_ESCAPE);
      const typed = at < 0 ? bytes : bytes.slice(0, at);
      if (typed && input && !d.destroyed) dropped += typed.length - input.write(inputBytes(typed));
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
