// The `xl` command group and the `xl` JavaScript global that mirrors it.
import { hostInfo, type HostInfo } from '../../hv/hostInfo';
import { dmesg } from '../../hv/log';
import { shim } from '../../hv/abi';
import { CommandError, CommandGroup } from '../registry';
import { destroyDomain } from '../lifecycle';
import { findGuest, type XlContext } from '../xlContext';
import { attachConsole, xlConsoleCommand } from './xlConsole';
import { createFromScript, xlCreateCommand } from './xlCreate';
import { xlDestroyCommand, xlPauseCommand, xlUnpauseCommand } from './xlDomainOps';
import { xlDmesgCommand } from './xlDmesg';
import { xlInfoCommand } from './xlInfo';
import { createXlListCommand, domainJson, listDomains, xlListCommand, type DomainRow } from './xlList';
import { xlSchedCreditCommand } from './xlSchedCredit';
import { requestShutdown, waitForShutdown, xlRebootCommand, xlShutdownCommand } from './xlShutdown';
import { xlUptimeCommand } from './xlUptime';
import { vcpuRows, xlVcpuListCommand, type VcpuRow } from './xlVcpuList';

/**
 * Creates the `xl` command with its subcommands. Without a context only info, list and dmesg
 * exist; with one (main.ts passes it) also create, destroy, pause, unpause, shutdown,
 * reboot, console, vcpu-list, uptime and sched-credit.
 */
export function createXlCommand(ctx?: XlContext): CommandGroup {
  const xl = new CommandGroup('xl', 'Xen-compatible toolstack (xl help lists subcommands)');
  xl.subcommands.register(xlInfoCommand);
  xl.subcommands.register(ctx ? createXlListCommand(ctx.hv.table, (id) => ctx.hv.guest(id)) : xlListCommand);
  xl.subcommands.register(xlDmesgCommand);
  if (!ctx) return xl;
  for (const make of [xlCreateCommand, xlDestroyCommand, xlPauseCommand, xlUnpauseCommand, xlShutdownCommand, xlRebootCommand,
    xlConsoleCommand, xlVcpuListCommand, xlSchedCreditCommand]) {
    xl.subcommands.register(make(ctx));
  }
  xl.subcommands.register(xlUptimeCommand(ctx, () => shim().wallClockMs(), () => shim().monotonicNs()));
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
  /** Creates a domain from an object of xl.cfg keys ({name, kernel, memory, ...}) or a config file; returns its id. */
  create?(config: unknown, opts?: { paused?: boolean }): number;
  /** Destroys a domain. */
  destroy?(domain: string | number): void;
  pause?(domain: string | number): void;
  unpause?(domain: string | number): void;
  /** Asks for a shutdown (or reboot); with wait, the promise settles when the domain has shut down. */
  shutdown?(domain: string | number, opts?: { wait?: boolean; reboot?: boolean }): Promise<string>;
  /** Attaches the console (Ctrl-] returns); settles when the session ends. */
  console?(domain: string | number): Promise<void>;
  /** The `xl vcpu-list` rows. */
  vcpuList?(...domains: string[]): VcpuRow[];
  /** The `xl list -l` objects. */
  listLong?(...domains: string[]): object[];
}

/** Builds the `xl` global over a command group (run() goes through the real subcommands). */
export function createXlApi(group: CommandGroup, split: (line: string) => string[], ctx?: XlContext): XlApi {
  const api: XlApi = {
    info: () => hostInfo(),
    list: (...names) => listDomains(ctx ? ctx.hv.table : undefined, names),
    dmesg: () => dmesg(),
    run: (line) => {
      let out = '';
      const result = group.run(split(line), { write: (t) => (out += t) });
      return result instanceof Promise ? result.then(() => out) : out;
    },
  };
  if (!ctx) return api;
  const guest = (dom: string | number, what: string) => findGuest(ctx, String(dom), what);
  const io = { write: (t: string) => shim().consoleWrite(t) };
  api.create = (config, opts = {}) => createFromScript(ctx, config, opts.paused === true);
  api.destroy = (dom) => destroyDomain(ctx, guest(dom, 'destroy'));
  api.pause = (dom) => ctx.hv.pause(guest(dom, 'pause'));
  api.unpause = (dom) => {
    const d = guest(dom, 'unpause');
    if (d.pauseCount === 0) throw new CommandError(`domain ${d.id} (${d.name}) is not paused`);
    ctx.hv.unpause(d);
  };
  api.shutdown = (dom, opts = {}) => {
    try {
      const d = guest(dom, opts.reboot ? 'reboot' : 'shutdown');
      const said = requestShutdown(ctx, d, opts.reboot ? 'reboot' : 'poweroff', false);
      return opts.wait ? waitForShutdown(d).then((t) => said + t) : Promise.resolve(said);
    } catch (e) {
      return Promise.reject(e);
    }
  };
  api.console = (dom) => attachConsole(ctx, guest(dom, 'attach to the console of'), io);
  api.vcpuList = (...names) => vcpuRows(ctx, names);
  api.listLong = (...names) => listDomains(ctx.hv.table, names).map((r) => ctx.hv.guest(r.id)).filter((g) => g !== undefined).map((g) => domainJson(g!));
  return api;
}
