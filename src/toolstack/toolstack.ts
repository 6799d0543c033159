// The toolstack's command set: where built-in commands are registered (later issues add theirs here).
import { createHelpCommand } from './help';
import { CommandRegistry, type CommandGroup } from './registry';
import { createXlCommand } from './xl/xl';
import { createXenstoreCommands } from './xenstoreCommands';
import type { XsClient } from '../xenstore/client';
import type { XlContext } from './xlContext';

/** The registry the REPL dispatches to, and the `xl` group inside it. */
export interface Toolstack {
  commands: CommandRegistry;
  xl: CommandGroup;
}

/**
 * Builds the command registry: `help`, `xl` (info, list, dmesg, and with a context the
 * domain commands) and, given a XenStore client, the xenstore-* commands. New top-level
 * commands are registered here; new xl subcommands in createXlCommand.
 */
export function createToolstack(xs?: XsClient, ctx?: XlContext): Toolstack {
  const commands = new CommandRegistry();
  commands.register(createHelpCommand(commands));
  const xl = createXlCommand(ctx);
  commands.register(xl);
  if (xs) for (const cmd of createXenstoreCommands(xs)) commands.register(cmd);
  return { commands, xl };
}
