// The `xl` command group and the `xl` JavaScript global that mirrors it.
import { hostInfo, type HostInfo } from '../../hv/hostInfo';
import { dmesg } from '../../hv/log';
import { CommandGroup } from '../registry';
import { xlDmesgCommand } from './xlDmesg';
import { xlInfoCommand } from './xlInfo';
import { listDomains, xlListCommand, type DomainRow } from './xlList';

/** Creates the `xl` command with its subcommands; later issues register more (create, destroy, ...). */
export function createXlCommand(): CommandGroup {
  const xl = new CommandGroup('xl', 'Xen-compatible toolstack (xl help lists subcommands)');
  xl.subcommands.register(xlInfoCommand);
  xl.subcommands.register(xlListCommand);
  xl.subcommands.register(xlDmesgCommand);
  return xl;
}

/** The `xl` global: the same operations returning data instead of printing. */
export interface XlApi {
  /** The `xl info` fields. */
  info(): HostInfo;
  /** The `xl list` rows, for all domains or the named ones. */
  list(...domains: string[]): DomainRow[];
  /** The `xl dmesg` text. */
  dmesg(): string;
  /** Runs an xl subcommand line ("list", "info free_memory") and returns what it printed. */
  run(line: string): string | Promise<string>;
}

/** Builds the `xl` global over a command group (run() goes through the real subcommands). */
export function createXlApi(group: CommandGroup, split: (line: string) => string[]): XlApi {
  return {
    info: () => hostInfo(),
    list: (...names) => listDomains(undefined, names),
    dmesg: () => dmesg(),
    run: (line) => {
      let out = '';
      const result = group.run(split(line), { write: (t) => (out += t) });
      return result instanceof Promise ? result.then(() => out) : out;
    },
  };
}
