// Host facts behind `xl info` and hv.info(): CPUs from ACPI, features from CPUID, memory from the shim.
import { shim, type Shim } from './abi';
import { scanAcpi, shimPhysReader, enabledCpuCount, type AcpiInfo } from './acpi';
import { formatHwCaps, hwCaps, topology, virtCaps } from './cpuInfo';
import { log } from './log';
import { ENGINE, XEN_EXTRA, XEN_MAJOR, XEN_MINOR, ZAZEN_VERSION } from './version';

/** The fields of `xl info`, in xl's order, with xl's names. */
export interface HostInfo {
  host: string;
  release: string;
  version: string;
  machine: string;
  nr_cpus: number;
  max_cpu_id: number;
  nr_nodes: number;
  cores_per_socket: number;
  threads_per_core: number;
  cpu_mhz: string;
  hw_caps: string;
  virt_caps: string;
  total_memory: number;
  free_memory: number;
  sharing_freed_memory: number;
  sharing_used_memory: number;
  outstanding_claims: number;
  free_cpus: number;
  xen_major: number;
  xen_minor: number;
  xen_extra: string;
  xen_version: string;
  xen_caps: string;
  xen_scheduler: string;
  xen_pagesize: number;
  platform_params: string;
  xen_changeset: string;
  xen_commandline: string;
  cc_compiler: string;
  cc_compile_by: string;
  cc_compile_domain: string;
  cc_compile_date: string;
  build_id: string;
  xend_config_format: number;
}

const MiB = 1024 * 1024;
let acpiCache: AcpiInfo | undefined;

/** The ACPI scan, done once; its warnings go to the hypervisor log. */
export function acpiInfo(s: Shim = shim()): AcpiInfo {
  if (!acpiCache) {
    acpiCache = scanAcpi(shimPhysReader(s), s.bootInfo().rsdp);
    for (const w of acpiCache.warnings) log(`acpi: ${w}`);
    if (acpiCache.madt) log(`acpi: MADT lists ${enabledCpuCount(acpiCache.madt)} enabled CPU(s)`);
    if (cpuCount(acpiCache) === 1 && !(acpiCache.madt && enabledCpuCount(acpiCache.madt) === 1)) {
      log('acpi: no usable MADT; assuming 1 CPU');
    }
  }
  return acpiCache;
}

/** Forgets the cached ACPI scan (tests change the fake machine between cases). */
export function resetHostInfoCache(): void {
  acpiCache = undefined;
}

/** Number of CPUs: enabled MADT entries, or 1 when there is no usable MADT. */
export function cpuCount(acpi: AcpiInfo): number {
  const n = acpi.madt ? enabledCpuCount(acpi.madt) : 0;
  return n > 0 ? n : 1;
}

/** Formats a TSC frequency in Hz as xl's cpu_mhz ("2999.998"). */
export function formatCpuMhz(hz: number): string {
  const khz = Math.floor(hz / 1000);
  return `${Math.floor(khz / 1000)}.${String(khz % 1000).padStart(3, '0')}`;
}

/** Gathers every `xl info` field from the shim, CPUID and ACPI. */
export function hostInfo(s: Shim = shim()): HostInfo {
  const boot = s.bootInfo();
  const mem = s.memStats();
  const acpi = acpiInfo(s);
  const nrCpus = cpuCount(acpi);
  const topo = topology(s);
  const virt = virtCaps(s);
  const caps = [virt.hvm ? 'hvm' : '', virt.hap ? 'hap' : ''].filter(Boolean).join(' ');
  return {
    host: 'zazen',
    release: ZAZEN_VERSION,
    version: `zazen ${ZAZEN_VERSION} (TypeScript on ${ENGINE})`,
    machine: 'x86_64',
    nr_cpus: nrCpus,
    max_cpu_id: nrCpus - 1,
    nr_nodes: 1,
    cores_per_socket: topo.coresPerSocket,
    threads_per_core: topo.threadsPerCore,
    cpu_mhz: formatCpuMhz(boot.tscHz),
    hw_caps: formatHwCaps(hwCaps(s)),
    virt_caps: caps,
    total_memory: Math.floor(mem.totalBytes / MiB),
    free_memory: Math.floor(mem.freeBytes / MiB),
    sharing_freed_memory: 0,
    sharing_used_memory: 0,
    outstanding_claims: 0,
    // Xen counts CPUs outside every cpupool; all of zazen's CPUs belong to its one pool.
    free_cpus: 0,
    xen_major: XEN_MAJOR,
    xen_minor: XEN_MINOR,
    xen_extra: XEN_EXTRA,
    xen_version: `${XEN_MAJOR}.${XEN_MINOR}${XEN_EXTRA}`,
    // zazen runs PVH guests only (HVM containers), so no "xen-3.0-x86_64" PV capability.
    xen_caps: virt.hvm ? 'hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64' : '',
    // Guests are time-sliced by a credit1-style scheduler (src/hv/sched/credit.ts).
    xen_scheduler: 'credit',
    xen_pagesize: 4096,
    // zazen reserves no part of a guest's virtual address space.
    platform_params: 'virt_start=0x0',
    xen_changeset: 'unavailable',
    xen_commandline: boot.cmdline,
    // The shim does not report how it was built (see the report: ABI proposal).
    cc_compiler: 'unavailable',
    cc_compile_by: 'unavailable',
    cc_compile_domain: 'unavailable',
    cc_compile_date: 'unavailable',
    build_id: '',
    xend_config_format: 4,
  };
}
