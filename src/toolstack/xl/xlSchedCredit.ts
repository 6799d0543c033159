// `xl sched-credit`: list or set the credit scheduler's weight and cap per domain.
import { formatSchedCredit } from '../../hv/sched/credit';
import { parseArgs } from '../args';
import { CommandError, type Command } from '../registry';
import { findDomain, type XlContext } from '../xlContext';

/** xl's per-domain line: printf("%-33s %4d %6d %4d\n", name, domid, weight, cap). */
function row(name: string, id: number, weight: number, cap: number): string {
  return `${name.padEnd(33)} ${String(id).padStart(4)} ${String(weight).padStart(6)} ${String(cap).padStart(4)}\n`;
}

function int(text: string, what: string): number {
  if (!/^-?\d+$/.test(text)) throw new CommandError(`invalid ${what} '${text}'`);
  return Number(text);
}

/**
 * The `xl sched-credit [-d domain [-w weight] [-c cap]]` subcommand. Without -d it lists
 * every domain under the pool line; with -d alone it prints that domain; with -w/-c it
 * sets them (weight 1-65535, cap 0 = none up to 100 per vCPU). Domain-0's values are kept
 * and shown but have no effect: zazen runs in the gaps between guest slices.
 */
export function xlSchedCreditCommand(ctx: XlContext): Command {
  return {
    name: 'sched-credit',
    summary: 'Get/set credit scheduler parameters',
    usage: 'xl sched-credit [-d <Domain> [-w[=WEIGHT]|-c[=CAP]]]',
    run(args, io) {
      const { options, positional } = parseArgs(args, { values: { d: 'domain', w: 'weight', c: 'cap', p: 'cpupool' } });
      if (positional.length) throw new CommandError(`unexpected argument '${positional[0]}'`);
      if (options.cpupool !== undefined && options.cpupool !== 'Pool-0') throw new CommandError(`cpupool '${String(options.cpupool)}' does not exist`);
      const sched = ctx.hv.sched;
      if (options.domain === undefined) {
        if (options.weight !== undefined || options.cap !== undefined) throw new CommandError('Must specify a domain.');
        io.write(formatSchedCredit(ctx.hv.table.list().map((d) => ({ name: d.name, domid: d.id })), sched));
        return;
      }
      const d = findDomain(ctx, String(options.domain));
      if (options.weight === undefined && options.cap === undefined) {
        const p = sched.getParams(d.id);
        io.write(`${'Name'.padEnd(33)} ${'ID'.padStart(4)} ${'Weight'.padStart(6)} ${'Cap'.padStart(4)}\n`);
        io.write(row(d.name, d.id, p.weight, p.cap));
        return;
      }
      const set: { weight?: number; cap?: number } = {};
      if (options.weight !== undefined) set.weight = int(String(options.weight), 'weight');
      if (options.cap !== undefined) set.cap = int(String(options.cap), 'cap');
      try {
        sched.setParams(d.id, set);
      } catch (e) {
        throw new CommandError(e instanceof Error ? e.message : String(e));
      }
    },
    complete: () => ctx.hv.table.list().map((d) => d.name),
  };
}
