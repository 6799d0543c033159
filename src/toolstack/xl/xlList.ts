// `xl list`: the domain table in xl's exact column layout.
import { domains as defaultTable, type Domain, type DomainTable } from '../../hv/domains';
import type { GuestDomain } from '../../hv/guestDomain';
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

/** libxl's JSON names for shutdown actions (xl.cfg's hyphens become underscores). */
function jsonAction(a: string): string {
  return a.replace(/-/g, '_');
}

/** The libxl_domain_config JSON `xl list -l` prints for a guest (Domain-0 has none and is left out, as in xl). */
export function domainJson(g: GuestDomain): object {
  const c = g.config;
  const b: { [k: string]: unknown } = {
    max_vcpus: c.maxvcpus,
    avail_vcpus: g.vcpuList.filter((v) => v.online).map((v) => v.id),
    max_memkb: c.maxmem * 1024,
    target_memkb: c.memory * 1024,
    sched_params: { weight: c.weight, cap: c.cap },
    kernel: c.kernel,
    cmdline: c.cmdline,
  };
  if (c.ramdisk) b.ramdisk = c.ramdisk;
  b['type.pvh'] = {};
  return {
    domid: g.id,
    config: {
      c_info: { type: 'pvh', name: g.name, uuid: g.uuid, run_hotplug_scripts: 'True' },
      b_info: b,
      on_poweroff: jsonAction(c.onPoweroff),
      on_reboot: jsonAction(c.onReboot),
      on_watchdog: jsonAction(c.onWatchdog),
      on_crash: jsonAction(c.onCrash),
      on_soft_reset: jsonAction(c.onSoftReset),
    },
  };
}

/** The `xl list [-l] [domain...]` subcommand over a domain table; guest details (for -l) come from guestOf. */
export function createXlListCommand(table: DomainTable = defaultTable, guestOf: (id: number) => GuestDomain | undefined = () => undefined): Command {
  return {
    name: 'list',
    summary: 'List information about all/some domains',
    usage: 'xl list [-l] [domain...]',
    run(args, io) {
      const { options, positional } = parseArgs(args, { flags: { l: 'long', v: 'verbose', Z: 'context', c: 'cpupool', n: 'numa' } });
      const unsupported = Object.keys(options).filter((k) => k !== 'long');
      if (unsupported.length) throw new CommandError(`list: --${unsupported[0]} is not supported yet`);
      const rows = listDomains(table, positional);
      if (!options.long) {
        io.write(formatXlList(rows));
        return;
      }
      const out: object[] = [];
      for (const r of rows) {
        const g = guestOf(r.id);
        if (g) out.push(domainJson(g));
      }
      io.write(`${JSON.stringify(out, null, 4)}\n`);
    },
    complete: () => table.list().map((d) => d.name),
  };
}

/** `xl list` without access to guest details (-l then lists nothing). */
export const xlListCommand: Command = createXlListCommand();
