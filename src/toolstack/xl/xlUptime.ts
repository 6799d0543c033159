// `xl uptime [-s]`: how long each domain has existed, in xl's format.
import { parseArgs } from '../args';
import type { Command } from '../registry';
import { findDomain, type XlContext } from '../xlContext';

/** xl's uptime_to_string: "[D day[s], ]H:MM:SS" (short: without seconds). */
export function formatUptime(seconds: number, short: boolean): string {
  let up = Math.max(0, Math.floor(seconds));
  const day = Math.floor(up / 86400);
  up -= day * 86400;
  const hour = Math.floor(up / 3600);
  up -= hour * 3600;
  const min = Math.floor(up / 60);
  const sec = up - min * 60;
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const hm = `${String(hour).padStart(2)}:${p2(min)}`;
  const clock = short ? hm : `${hm}:${p2(sec)}`;
  if (day > 1) return `${day} days, ${clock}`;
  if (day === 1) return `${day} day, ${clock}`;
  return clock;
}

/** Seconds each domain has been up: Domain-0 since boot, guests since creation. */
export function uptimes(ctx: XlContext, which: string[], nowMs: number, bootNs: number): { name: string; id: number; seconds: number }[] {
  const doms = which.length ? which.map((w) => findDomain(ctx, w)) : ctx.hv.table.list();
  return doms.map((d) => {
    const g = ctx.hv.guest(d.id);
    return { name: d.name, id: d.id, seconds: g ? (nowMs - g.createdMs) / 1000 : bootNs / 1e9 };
  });
}

/** The `xl uptime [-s] [domain...]` subcommand; nowMs is the wall clock, monoNs the time since boot. */
export function xlUptimeCommand(ctx: XlContext, nowMs: () => number, monoNs: () => number): Command {
  return {
    name: 'uptime',
    summary: 'Print uptime for all/some domains',
    usage: 'xl uptime [-s] [Domain]',
    run(args, io) {
      const { options, positional } = parseArgs(args, { flags: { s: 'short' } });
      const now = nowMs();
      const rows = uptimes(ctx, positional, now, monoNs());
      if (options.short) {
        const t = new Date(now);
        const p2 = (n: number): string => String(n).padStart(2, '0');
        const clock = `${p2(t.getUTCHours())}:${p2(t.getUTCMinutes())}:${p2(t.getUTCSeconds())}`;
        for (const r of rows) io.write(` ${clock} up ${formatUptime(r.seconds, true)}, ${r.name} (${r.id})\n`);
        return;
      }
      io.write(`${'Name'.padEnd(33)} ${'ID'.padStart(4)} Uptime\n`);
      for (const r of rows) io.write(`${r.name.padEnd(33)} ${String(r.id).padStart(4)} ${formatUptime(r.seconds, false)}\n`);
    },
    complete: () => ctx.hv.table.list().map((d) => d.name),
  };
}
