// `xl vcpu-list`: one line per vCPU in xl's columns (name, domid, vCPU, CPU, state, time, affinity).
import { parseArgs } from '../args';
import type { Command } from '../registry';
import { findDomain, type XlContext } from '../xlContext';

/** One vCPU row, also what xl.vcpuList() returns. */
export interface VcpuRow {
  name: string;
  domid: number;
  vcpu: number;
  /** Physical CPU it runs on (zazen has one: 0), or -1 when offline. */
  cpu: number;
  online: boolean;
  running: boolean;
  blocked: boolean;
  /** CPU time in seconds. */
  time: number;
}

/** xl's header: printf("%-32s %5s %5s %5s %5s %9s %s\n", ...). */
export const VCPU_LIST_HEADER = `${'Name'.padEnd(32)} ${'ID'.padStart(5)} ${'VCPU'.padStart(5)} ${'CPU'.padStart(5)} ${'State'.padStart(5)} ${'Time(s)'.padStart(9)} Affinity (Hard / Soft)`;

/** The rows of the given domains (all when none), Domain-0 first. */
export function vcpuRows(ctx: XlContext, which: string[] = []): VcpuRow[] {
  const doms = which.length ? which.map((w) => findDomain(ctx, w)) : ctx.hv.table.list();
  const rows: VcpuRow[] = [];
  for (const dom of doms) {
    const g = ctx.hv.guest(dom.id);
    if (!g) {
      // Domain-0: zazen itself, on the boot CPU.
      rows.push({ name: dom.name, domid: dom.id, vcpu: 0, cpu: 0, online: true, running: true, blocked: false, time: dom.cpuTimeNs() / 1e9 });
      continue;
    }
    for (const v of g.vcpuList) {
      const running = v.online && !v.blocked && g.canRun;
      rows.push({ name: g.name, domid: g.id, vcpu: v.id, cpu: v.online ? 0 : -1, online: v.online, running, blocked: v.online && v.blocked, time: v.cpuNs / 1e9 });
    }
  }
  return rows;
}

/** One line as xl prints it: offline vCPUs show "-" for the CPU and state "--p". */
export function formatVcpuRow(r: VcpuRow): string {
  const head = `${r.name.padEnd(32)} ${String(r.domid).padStart(5)} ${String(r.vcpu).padStart(5)}`;
  const mid = r.online
    ? `${String(r.cpu).padStart(5)} ${(r.running ? 'r' : '-').padStart(3)}${r.blocked ? 'b' : '-'}- `
    : `${'-'.padStart(5)} ${'-'.padStart(3)}-p `;
  return `${head}${mid}${r.time.toFixed(1).padStart(9)}  all / all`;
}

/** The `xl vcpu-list [domain...]` subcommand. */
export function xlVcpuListCommand(ctx: XlContext): Command {
  return {
    name: 'vcpu-list',
    summary: 'List the VCPUs for all/some domains',
    usage: 'xl vcpu-list [Domain, ...]',
    run(args, io) {
      const { positional } = parseArgs(args, {});
      const rows = vcpuRows(ctx, positional);
      io.write(`${VCPU_LIST_HEADER}\n${rows.map((r) => `${formatVcpuRow(r)}\n`).join('')}`);
    },
    complete: () => ctx.hv.table.list().map((d) => d.name),
  };
}
