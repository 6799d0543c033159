// The `help` command: lists toolstack commands, or one command's usage and subcommands.
import { CommandError, CommandGroup, type Command, type CommandRegistry } from './registry';

/** Text listing every registered command with its summary. */
export function commandListText(registry: CommandRegistry): string {
  const cmds = registry.list();
  const width = Math.max(0, ...cmds.map((c) => c.name.length));
  return cmds.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}\n`).join('');
}

/** Creates `help [command]` over a registry. */
export function createHelpCommand(registry: CommandRegistry): Command {
  return {
    name: 'help',
    summary: 'List toolstack commands, or describe one (help xl)',
    usage: 'help [command]',
    run(args, io) {
      if (args.length === 0) {
        io.write(
          'Toolstack commands (anything else is JavaScript; .help lists REPL commands):\n' +
            `${commandListText(registry)}`,
        );
        return;
      }
      const cmd = registry.get(args[0]);
      if (!cmd) throw new CommandError(`no such command '${args[0]}'`);
      if (cmd instanceof CommandGroup) io.write(cmd.helpText());
      else io.write(`Usage: ${cmd.usage ?? cmd.name}\n${cmd.summary}\n`);
    },
    complete: () => registry.list().map((c) => c.name),
  };
}
