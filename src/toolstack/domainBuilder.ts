// Builds a PVH domain from a DomainConfig: files, checks, guest memory, the shim's domain and policy tables, vCPUs.
import { syncSendPorts } from '../hv/evtchn/sendPorts';
import { shim as defaultShim, type Shim } from '../hv/abi';
import { ElfError, noteString, parseElf, phys32Entry, XEN_ELFNOTE_GUEST_OS, xenNotes } from '../hv/elf';
import { buildGuestAcpi, GUEST_ACPI_GPA, type GuestAcpi } from '../hv/guestAcpi';
import { attachLinuxDevices } from '../hv/linuxDevices';
import { GuestDomain } from '../hv/guestDomain';
import { GuestMemory } from '../hv/guestMemory';
import { policyTables, type PolicyProfile } from '../hv/domainPolicy';
import { loadPvhGuest, planGuestPhysical, PvhLayoutError, type VcpuState } from '../hv/pvhLayout';
import { Vcpu, type SegName } from '../hv/vcpu';
import type { DomainConfig } from './xlConfig';
import { bootPath, type XlContext } from './xlContext';
import { BzImageError, kernelElf } from './bzImage';

/** A domain could not be built; the message says why, as xl would. */
export class DomainBuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DomainBuildError';
  }
}

const MiB = 1048576;
/** Memory zazen keeps free for itself (its engine heap grows from the same frames). */
export const HOST_RESERVE_BYTES = 8 * MiB;
/** EFER.SVME: VMRUN requires it in the guest's EFER; the shim hides it from the guest. */
const EFER_SVME = 0x1000;

/** A random (version 4) UUID, as libxl gives a domain that has none. */
export function randomUuid(): string {
  const h: string[] = [];
  for (let i = 0; i < 16; i++) {
    let b = Math.floor(Math.random() * 256);
    if (i === 6) b = (b & 0x0f) | 0x40;
    if (i === 8) b = (b & 0x3f) | 0x80;
    h.push(b.toString(16).padStart(2, '0'));
  }
  const s = h.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

function readBoot(ctx: XlContext, what: string, path: string): Uint8Array {
  const p = bootPath(path);
  const bytes = ctx.readFile(p);
  if (!bytes) throw new DomainBuildError(`${what} '${p}': no such file`);
  return bytes;
}

/**
 * The guest profile a kernel gets: 'linux' when its Xen GUEST_OS note says "linux" (an x2APIC,
 * ACPI tables, console and XenStore rings: what Linux's PVH boot needs), else 'plain' (the
 * minimal PVH environment zazen's test guests expect).
 */
export function kernelProfile(bytes: Uint8Array): PolicyProfile {
  const os = xenNotes(parseElf(bytes), XEN_ELFNOTE_GUEST_OS);
  return os.length > 0 && noteString(os[0]).toLowerCase() === 'linux' ? 'linux' : 'plain';
}

/** Reads the kernel file as an ELF: an ELF vmlinux as is, a bzImage's XZ payload decompressed. */
function readKernel(ctx: XlContext, path: string): Uint8Array {
  const bytes = readBoot(ctx, 'kernel', path);
  try {
    return kernelElf(bytes);
  } catch (e) {
    if (e instanceof BzImageError) throw new DomainBuildError(`kernel '${bootPath(path)}': ${e.message}`);
    throw e;
  }
}

/** Checks the kernel is a PVH ELF (the loader checks the rest). */
function checkKernel(path: string, bytes: Uint8Array): void {
  const p = bootPath(path);
  let image;
  try {
    image = parseElf(bytes);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new DomainBuildError(/bad magic|unknown class/.test(msg) ? `kernel '${p}': not an ELF file` : `kernel '${p}': ${msg}`);
  }
  try {
    phys32Entry(image);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new DomainBuildError(/no Xen PHYS32_ENTRY/.test(msg) ? `kernel '${p}' has no PVH entry (XEN_ELFNOTE_PHYS32_ENTRY)` : `kernel '${p}': ${msg}`);
  }
}

/** Writes the PVH entry state (pvhLayout's VcpuState) into a vCPU's state page. */
export function loadInitialState(v: Vcpu, s: VcpuState): void {
  const gprs: [Parameters<Vcpu['setReg']>[0], number][] = [
    ['rax', s.rax], ['rbx', s.rbx], ['rcx', s.rcx], ['rdx', s.rdx], ['rsi', s.rsi], ['rdi', s.rdi], ['rbp', s.rbp], ['rsp', s.rsp],
  ];
  for (const [name, value] of gprs) v.setReg(name, value);
  for (const r of ['r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as const) v.setReg(r, 0);
  v.setReg('rip', s.rip);
  v.setReg('rflags', s.rflags);
  v.setReg('cr0', s.cr0);
  v.setReg('cr2', s.cr2);
  v.setReg('cr3', s.cr3);
  v.setReg('cr4', s.cr4);
  v.setReg('efer', s.efer | EFER_SVME);
  v.setReg('xcr0', 1);
  v.setReg('pat', s.pat);
  v.setReg('dr6', s.dr6);
  v.setReg('dr7', s.dr7);
  const segs: SegName[] = ['es', 'cs', 'ss', 'ds', 'fs', 'gs', 'ldtr', 'tr'];
  for (const name of segs) {
    const x = s[name];
    v.setSeg(name, { sel: x.selector, attr: x.attrib, limit: x.limit, base: x.base });
  }
  v.setSeg('gdtr', { sel: 0, attr: 0, limit: s.gdtr.limit, base: s.gdtr.base });
  v.setSeg('idtr', { sel: 0, attr: 0, limit: s.idtr.limit, base: s.idtr.base });
}

/**
 * Builds a domain and registers it with the hypervisor (running unless paused). On any
 * failure everything allocated so far is freed and a DomainBuildError says why.
 */
export function buildDomain(ctx: XlContext, config: DomainConfig, paused = false, shimOf: () => Shim = defaultShim): GuestDomain {
  const s = shimOf();
  const caps = s.virtCaps();
  if (!caps.usable) throw new DomainBuildError(`guests cannot run on this machine: ${caps.reason}`);
  const taken = ctx.hv.table.byName(config.name);
  if (taken) throw new DomainBuildError(`domain name '${config.name}' is already in use (domain ${taken.id})`);
  const kernel = readKernel(ctx, config.kernel);  checkKernel(config.kernel, kernel);
  const ramdisk = config.ramdisk ? readBoot(ctx, 'ramdisk', config.ramdisk) : null;
  const free = s.memStats().freeBytes;
  if (config.memory * MiB + HOST_RESERVE_BYTES > free) {
    const note = config.memory * MiB <= free ? ` (zazen keeps ${HOST_RESERVE_BYTES / MiB} MiB for itself)` : '';
    throw new DomainBuildError(`memory ${config.memory} MiB exceeds free memory ${Math.floor(free / MiB)} MiB${note}`);
  }

  const id = ctx.hv.table.allocateId();
  const profile = kernelProfile(kernel);
  let plan;
  let acpi: GuestAcpi | null = null;
  try {
    // The MADT lists maxvcpus LAPICs and marks the first `vcpus` enabled, as libxl does (avail_vcpus).
    if (profile === 'linux') acpi = buildGuestAcpi({ gpa: GUEST_ACPI_GPA, vcpus: config.maxvcpus, online: config.vcpus });
    plan = planGuestPhysical(config.memory, { extra: acpi ? [acpi.region] : [] });
  } catch (e) {
    throw new DomainBuildError(e instanceof Error ? e.message : String(e));
  }
  let mem: GuestMemory;
  try {
    mem = GuestMemory.create(s, plan.populate, { alignLargeChunks: true });
  } catch (e) {
    throw new DomainBuildError(`cannot allocate ${config.memory} MiB of guest memory: ${e instanceof Error ? e.message : String(e)}`);
  }
  let handle = -1;
  try {
    if (acpi) mem.write(acpi.gpa, acpi.bytes);
    const layout = loadPvhGuest(mem, plan, { kernel, ramdisk, cmdline: config.cmdline, rsdpPaddr: acpi ? acpi.rsdpGpa : 0 });
    handle = s.domainCreate(id);
    s.domainSetNpt(handle, mem.nptRoot);
    const policy = policyTables(s, id, profile);
    s.domainSetCpuid(handle, policy.cpuid);
    s.domainSetMsrs(handle, policy.msrs);
    s.domainSetHypercalls(handle, policy.hypercalls);
    s.domainSetDevices(handle, policy.devices);
    // Every vCPU up to maxvcpus exists from the start (as Xen allocates them); only vCPU 0 runs:
    // the guest starts the others (INIT/SIPI through its LAPIC, or VCPUOP_initialise and _up).
    const vcpus: Vcpu[] = [];
    for (let i = 0; i < config.maxvcpus; i++) {
      const c = s.vcpuCreate(handle, i);
      vcpus.push(new Vcpu(id, i, c.handle, c.state, s.physView(c.state, 4096)));
    }
    loadInitialState(vcpus[0], layout.vcpu);
    const d = new GuestDomain({
      id, name: config.name, uuid: randomUuid(), config, memory: mem, memmap: layout.memmap, handle, vcpus,
      createdMs: s.wallClockMs(), createdNs: s.monotonicNs(),
    });
    ctx.hv.add(d, paused);
    if (profile === 'linux') {
      try {
        attachLinuxDevices(ctx.hv, d, { console: layout.consoleGfn, xenstore: layout.xenstoreGfn }, ctx.store ?? null);
        syncSendPorts(ctx.hv, d, s);
      } catch (e) {
        ctx.hv.destroy(d);
        throw new DomainBuildError(`cannot create domain '${config.name}': console/XenStore rings: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return d;
  } catch (e) {
    if (handle >= 0) {
      try {
        s.domainDestroy(handle);
      } catch {
        // Already gone: nothing more to free.
      }
    }
    mem.destroy();
    if (e instanceof DomainBuildError) throw e;
    if (e instanceof PvhLayoutError || e instanceof ElfError) throw new DomainBuildError(`kernel '${bootPath(config.kernel)}': ${e.message}`);
    throw new DomainBuildError(`cannot create domain '${config.name}': ${e instanceof Error ? e.message : String(e)}`);
  }
}
