// `xl list`: the domain table in xl's exact column layout.
import { domains as defaultTable, type Domain, type DomainTable } from '../../hv/domains';
import { parseArgs } from '../args';
import { CommandError, type Command } from '../registry';

/** One row of `xl list`, also what xl.list() returns. */
export interface DomainRow {
  name: string;
  id: number;
  /** Memory in MiB, truncated as xl does (KiB / 1024). */
  mem: number;
  vcpus: number;
  /** Six letters: running, blocked, paused, shutdown, shutdown reason, dying. */
  state: string;
  /** CPU time in seconds. */
  time: number;
}

/** xl's header line, tabs included. */
export const XL_LIST_HEADER = 'Name                                        ID   Mem VCPUs\tState\tTime(s)';
const SHUTDOWN_LETTERS = '-rscwS';

/** The row for one domain. */
export function domainRow(d: Domain): DomainRow {
  const f = d.flags();
  const reason = f.shutdown ? f.shutdownReason : 0;
  const state =
    (f.running ? 'r' : '-') +
    (f.blocked ? 'b' : '-') +
    (f.paused ? 'p' : '-') +
    (f.shutdown ? 's' : '-') +
    (reason >= 0 && reason < SHUTDOWN_LETTERS.length ? SHUTDOWN_LETTERS[reason] : '?') +
    (f.dying ? 'd' : '-');
  return { name: d.name, id: d.id, mem: Math.floor(d.memoryKiB() / 1024), vcpus: d.vcpus(), state, time: d.cpuTimeNs() / 1e9 };
}

/** Formats a row as xl's printf("%-40s %5d %5lu %5d     %c%c%c%c%c%c  %8.1f"). */
export function formatRow(r: DomainRow): string {
  return `${r.name.padEnd(40)} ${String(r.id).padStart(5)} ${String(r.mem).padStart(5)} ${String(r.vcpus).padStart(5)}     ${r.state}  ${r.time.toFixed(1).padStart(8)}`;
}

/** Rows for all domains, or for the named ones (names or ids, as xl accepts). */
export function listDomains(table: DomainTable = defaultTable, which: string[] = []): DomainRow[] {
  if (which.length === 0) return table.list().map(domainRow);
  return which.map((w) => {
    const d = table.find(w);
    if (!d) throw new CommandError(`domain '${w}' does not exist`);
    return domainRow(d);
  });
}

/** The full `xl list` text. */
export function formatXlList(rows: DomainRow[]): string {
  return `${XL_LIST_HEADER}\n${rows.map((r) => `${formatRow(r)}\n`).join('')}`;
}

/** The `xl list [domain...]` subcommand. */
export const xlListCommand: Command = {
  name: 'list',
  summary: 'List information about all/some domains',
  usage: 'xl list [domain...]',
  run(args, io) {
    const { options, positional } = parseArgs(args, { flags: { l: 'long', v: 'verbose', Z: 'context', c: 'cpupool', n: 'numa' } });
    const unsupported = Object.keys(options);
    if (unsupported.length) throw new CommandError(`list: --${unsupported[0]} is not supported yet`);
    io.write(formatXlList(listDomains(defaultTable, positional)));
  },
  complete: () => defaultTable.list().map((d) => d.name),
};
