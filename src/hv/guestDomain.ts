// A guest domain: identity, state flags, shutdown reason and code, memory, vCPUs, console and times.
import type { DomainConfig } from '../toolstack/xlConfig';
import type { Domain, DomainFlags } from './domains';
import { DomainConsole } from './consoleLog';
import type { GuestMemory } from './guestMemory';
import type { MemmapEntry } from './pvhLayout';
import type { Vcpu } from './vcpu';

/** SCHEDOP_shutdown reasons (public/sched.h SHUTDOWN_*). */
export const SHUTDOWN_POWEROFF = 0;
export const SHUTDOWN_REBOOT = 1;
export const SHUTDOWN_SUSPEND = 2;
export const SHUTDOWN_CRASH = 3;
export const SHUTDOWN_WATCHDOG = 4;
export const SHUTDOWN_SOFT_RESET = 5;
const REASON_NAMES = ['poweroff', 'reboot', 'suspend', 'crash', 'watchdog', 'soft_reset'];

/** The name of a shutdown reason ("poweroff"), or "unknown (N)". */
export function shutdownReasonName(reason: number): string {
  return reason >= 0 && reason < REASON_NAMES.length ? REASON_NAMES[reason] : `unknown (${reason})`;
}

/** What a GuestDomain is made of; the domain builder assembles it. */
export interface GuestDomainParts {
  id: number;
  name: string;
  uuid: string;
  config: DomainConfig;
  memory: GuestMemory;
  /** The guest's memory map as its start_info gives it. */
  memmap: MemmapEntry[];
  /** The shim's domain handle (domainCreate). */
  handle: number;
  vcpus: Vcpu[];
  /** Wall-clock ms and monotonic ns at creation. */
  createdMs: number;
  createdNs: number;
}

/** A domain running a guest; the hypervisor (hypervisor.ts) changes its state. */
export class GuestDomain implements Domain {
  readonly id: number;
  name: string;
  readonly uuid: string;
  readonly config: DomainConfig;
  readonly memory: GuestMemory;
  readonly memmap: MemmapEntry[];
  readonly handle: number;
  readonly vcpuList: Vcpu[];
  readonly console: DomainConsole;
  readonly createdMs: number;
  readonly createdNs: number;
  /** Toolstack pauses (xl pause), counted as Xen does. */
  pauseCount = 0;
  /** The reason reported at shutdown (the latched code if there was one); null while not shut down. */
  shutdownReason: number | null = null;
  /** SCHEDOP_shutdown_code's latched code; null when none. */
  shutdownCode: number | null = null;
  /** Why the domain crashed, when it did. */
  crashWhy = '';
  dying = false;
  destroyed = false;
  /** xl shutdown/reboot -w waiters and the like: called once the domain shuts down or goes away. */
  readonly waiters: ((d: GuestDomain) => void)[] = [];

  constructor(p: GuestDomainParts) {
    this.id = p.id;
    this.name = p.name;
    this.uuid = p.uuid;
    this.config = p.config;
    this.memory = p.memory;
    this.memmap = p.memmap;
    this.handle = p.handle;
    this.vcpuList = p.vcpus;
    this.createdMs = p.createdMs;
    this.createdNs = p.createdNs;
    this.console = new DomainConsole(p.id);
  }

  /** Online vCPUs (xl list's VCPUs column). */
  vcpus(): number {
    let n = 0;
    for (const v of this.vcpuList) if (v.online) n++;
    return n;
  }

  /** Guest pages the domain holds, in KiB (RAM and special pages). */
  memoryKiB(): number {
    return this.destroyed ? 0 : this.memory.pages * 4;
  }

  /** CPU time all its vCPUs have used. */
  cpuTimeNs(): number {
    let t = 0;
    for (const v of this.vcpuList) t += v.cpuNs;
    return t;
  }

  /** True when no toolstack pause, shutdown or teardown holds the domain. */
  get canRun(): boolean {
    return this.pauseCount === 0 && this.shutdownReason === null && !this.dying && !this.destroyed;
  }

  /**
   * xl list's flags. zazen's toolstack runs on the CPU the guests use, so at the instant xl
   * asks no guest is on it: 'r' marks a domain with a vCPU that is running or runnable.
   * 'b' marks one whose online vCPUs are all blocked (or that has none online), as Xen does.
   */
  flags(): DomainFlags {
    let online = 0;
    let blocked = 0;
    for (const v of this.vcpuList) {
      if (!v.online) continue;
      online++;
      if (v.blocked) blocked++;
    }
    const shutdown = this.shutdownReason !== null;
    return {
      running: this.canRun && online > blocked,
      blocked: online === blocked && !shutdown,
      paused: this.pauseCount > 0,
      shutdown,
      shutdownReason: shutdown ? (this.shutdownReason as number) : 0,
      dying: this.dying,
    };
  }
}
