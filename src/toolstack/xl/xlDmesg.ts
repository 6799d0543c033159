// `xl dmesg`: the shim's boot log followed by the TypeScript side's log.
import { dmesg } from '../../hv/log';
import { parseArgs } from '../args';
import { CommandError, type Command } from '../registry';

/** The `xl dmesg [-c]` subcommand. */
export const xlDmesgCommand: Command = {
  name: 'dmesg',
  summary: 'Read and/or clear dmesg buffer',
  usage: 'xl dmesg [-c]',
  run(args, io) {
    const { options, positional } = parseArgs(args, { flags: { c: 'clear' } });
    if (positional.length) throw new CommandError('usage: xl dmesg [-c]');
    io.write(dmesg(options.clear === true));
  },
};
