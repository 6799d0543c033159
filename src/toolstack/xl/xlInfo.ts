// `xl info`: host facts as "key                    : value" lines, formatted like Xen's xl.
import { hostInfo, type HostInfo } from '../../hv/hostInfo';
import { parseArgs } from '../args';
import { CommandError, type Command } from '../registry';

/** xl pads every key to 23 columns before the colon. */
const KEY_WIDTH = 23;

/** One `xl info` line; virt_caps is printed as xl does, each capability after a space. */
export function formatInfoLine(key: string, value: string | number): string {
  if (key === 'virt_caps') return `${key.padEnd(KEY_WIDTH)}:${String(value).split(' ').filter(Boolean).map((c) => ` ${c}`).join('')}`;
  return `${key.padEnd(KEY_WIDTH)}: ${value}`;
}

/** The whole `xl info` text, or just one field's value when `field` is given (`xl info free_memory`). */
export function formatXlInfo(info: HostInfo, field?: string): string {
  const fields = info as unknown as Record<string, string | number>;
  if (field !== undefined) {
    if (!(field in fields)) throw new CommandError(`no such field '${field}'`);
    return `${fields[field]}\n`;
  }
  return Object.keys(fields).map((k) => `${formatInfoLine(k, fields[k])}\n`).join('');
}

/** The `xl info [field]` subcommand. */
export const xlInfoCommand: Command = {
  name: 'info',
  summary: 'Get information about Xen host',
  usage: 'xl info [field]',
  run(args, io) {
    const { options, positional } = parseArgs(args, { flags: { n: 'numa' } });
    if (options.numa) throw new CommandError('info: -n (NUMA topology) is not supported; zazen reports one node');
    if (positional.length > 1) throw new CommandError('usage: xl info [field]');
    io.write(formatXlInfo(hostInfo(), positional[0]));
  },
  complete: (args) => (args.length <= 1 ? Object.keys(hostInfo()) : []),
};
