// The `hv` global: host information and the hypervisor's own log, for the REPL and init.js.
import { shim, type BootInfo, type MemStats, type Shim } from '../hv/abi';
import type { AcpiInfo } from '../hv/acpi';
import { domains, type DomainTable } from '../hv/domains';
import type { Hypervisor } from '../hv/hypervisor';
import type { RunLoop } from '../hv/runLoop';
import { acpiInfo, hostInfo, type HostInfo } from '../hv/hostInfo';
import { dmesg, log } from '../hv/log';
import { domainExitStats, type ExitStats } from '../hv/exitStats';
import { ENGINE, XEN_EXTRA, XEN_MAJOR, XEN_MINOR, ZAZEN_VERSION } from '../hv/version';

/** What `hv` offers. */
export interface HvApi {
  /** zazen's version, the Xen ABI level and the engine. */
  readonly version: { zazen: string; xen: string; engine: string };
  /** The `xl info` fields. */
  info(): HostInfo;
  /** Memory accounting from the shim, in bytes. */
  memStats(): MemStats;
  /** What the boot loader and the shim found at power-on. */
  readonly bootInfo: BootInfo;
  /** ACPI tables found and the MADT's processors. */
  acpi(): AcpiInfo;
  /** The domain table. */
  readonly domains: DomainTable;
  /** The dmesg text (shim boot log, then the TypeScript log). */
  dmesg(): string;
  /** Appends a line to the hypervisor log. */
  log(text: string): void;
  /** The raw native interface (abi.h); handle with care. */
  readonly shim: Shim;
  /** The TSC when the REPL first showed its prompt (under QEMU -icount: instructions since reset). */
  promptTsc: bigint;
  /** The hypervisor: guest domains, the scheduler (hv.hypervisor.sched), pause/destroy... */
  readonly hypervisor?: Hypervisor;
  /** The guest run loop and its counters. */
  readonly runLoop?: RunLoop;
  /** A guest domain's exit and hypercall counters (by kind and by name), or null if there is none. */
  exitStats(domid: number): ExitStats | null;
}

/** Builds the `hv` global (with the hypervisor and run loop when booted). */
export function createHvApi(hypervisor?: Hypervisor, runLoop?: RunLoop): HvApi {
  let boot: BootInfo | undefined;
  return {
    version: { zazen: ZAZEN_VERSION, xen: `${XEN_MAJOR}.${XEN_MINOR}${XEN_EXTRA}`, engine: ENGINE },
    info: () => hostInfo(),
    memStats: () => shim().memStats(),
    get bootInfo() {
      boot ??= shim().bootInfo();
      return boot;
    },
    acpi: () => acpiInfo(),
    domains,
    dmesg: () => dmesg(),
    log: (text) => log(String(text)),
    get shim() {
      return shim();
    },
    promptTsc: 0n,
    hypervisor,
    runLoop,
    exitStats(domid) {
      const d = hypervisor?.guest(domid);
      return d ? domainExitStats(d) : null;
    },
  };
}
