// The shim's native ABI as TypeScript sees it: mirrors runtime-c-shim/abi.h.

/** Must equal ZAZEN_ABI_VERSION in runtime-c-shim/abi.h. */
export const ABI_VERSION = 3;

/** A host-physical address (a plain number; all RAM lies below 2^53). */
export type HostPhysAddr = number & { readonly __brand: 'HostPhysAddr' };

/** One range of the firmware's memory map. type: 1 RAM, 2 reserved, 3 ACPI, 4 NVS, 5 bad. */
export interface MemoryRange {
  base: number;
  length: number;
  type: number;
}

/** A module the boot loader loaded next to the kernel. */
export interface BootModule {
  /** Base name of the first word of the module's command line: `/boot/<name>`. */
  name: string;
  cmdline: string;
  addr: HostPhysAddr;
  size: number;
}

/** What the boot loader and the shim found at power-on. */
export interface BootInfo {
  loader: 'multiboot1' | 'multiboot2';
  firmware: 'bios' | 'uefi';
  /** The kernel's own command line. */
  cmdline: string;
  /** Physical address of the ACPI RSDP if the loader passed one, else 0. */
  rsdp: number;
  memoryMap: MemoryRange[];
  modules: BootModule[];
  /** [start, end) of the loaded shim image. */
  imageStart: number;
  imageEnd: number;
  /** Calibrated TSC frequency in Hz. */
  tscHz: number;
  /** LAPIC mode the shim runs the timer in. */
  apicMode: 'x2apic' | 'xapic';
}

/** Memory accounting, in bytes. */
export interface MemStats {
  /** RAM in the firmware's map (type 1). */
  totalBytes: number;
  /** RAM the frame allocator can still hand out. */
  freeBytes: number;
  /** The shim image (text, data, bss without the stacks). */
  imageBytes: number;
  /** Boot, interrupt and exception stacks. */
  stackBytes: number;
  /** The engine heap: frames it has claimed from the host, and bytes in use. */
  heapBytes: number;
  heapUsedBytes: number;
  /** Frames handed out through framesAlloc and not yet freed. */
  framesAllocatedBytes: number;
  /** Memory held by boot modules. */
  moduleBytes: number;
}

/** What the CPU offers for running guests (virtCaps). */
export interface VirtCaps {
  vendor: 'amd' | 'intel' | 'other';
  svm: boolean;
  npt: boolean;
  nrips: boolean;
  decodeAssists: boolean;
  vmcbClean: boolean;
  flushByAsid: boolean;
  asids: number;
  vmx: boolean;
  /** True only when guests can run (SVM with nested paging, enabled). */
  usable: boolean;
  /** What is missing when not usable, e.g. "no nested paging". */
  reason: string;
}

/** vcpuCreate's answer: a handle and the host-physical address of the vCPU's state page. */
export interface VcpuCreated {
  handle: number;
  state: number;
}

/** Run results of vcpuRun (ZZ_RUN_*). */
export const RUN_EXIT = 1;
export const RUN_PREEMPT = 2;
export const RUN_HOST = 3;
export const RUN_HALT = 4;
export const RUN_CRASH = 5;

/** Exit reasons in the state page (ZZ_EXIT_*). */
export const EXIT_HYPERCALL = 1;
export const EXIT_IO = 2;
export const EXIT_MMIO = 3;
export const EXIT_MSR = 4;
export const EXIT_SHUTDOWN = 5;
export const EXIT_INVALID = 6;
export const EXIT_NPF = 7;
export const EXIT_UNHANDLED = 8;
export const EXIT_IRQ_WINDOW = 9;

/** Event types for injection (ZZ_INJECT_*). */
export const INJECT_NONE = 0;
export const INJECT_EXT = 1;
export const INJECT_NMI = 2;
export const INJECT_EXC = 3;
export const INJECT_SOFT = 4;

/** Bits of the state page's dirty word (ZZ_DIRTY_*): what TypeScript changed. */
export const DIRTY_GPR = 1 << 0;
export const DIRTY_RIP = 1 << 1;
export const DIRTY_CR = 1 << 2;
export const DIRTY_SEG = 1 << 3;
export const DIRTY_MSR = 1 << 4;
export const DIRTY_DR = 1 << 5;
export const DIRTY_TSC = 1 << 6;
export const DIRTY_ALL = 0x7f;

/** Hypercall table modes for domainSetHypercalls. */
export const HCALL_ENOSYS = 0;
export const HCALL_FORWARD = 1;
export const HCALL_FAST = 2;

/** MSR policy actions for domainSetMsrs. */
/** domainSetDevices flag: channel 2 of an i8254 PIT and port 0x61, in C (ZZ_DEVICE_PIT2). */
export const DEVICE_PIT2 = 1;
/** Most ports domainSetSendPorts takes (ZZ_SEND_PORTS). */
export const SEND_PORTS = 32;

export const MSR_CONST = 0;
export const MSR_STORED = 1;
export const MSR_FORWARD = 2;
export const MSR_GUEST = 3;

/** CPUID table flags for domainSetCpuid. */
export const CPUID_VCPU_ID_EBX = 1 << 0;
export const CPUID_APIC_ID_EBX = 1 << 1;
export const CPUID_X2APIC_ID_EDX = 1 << 2;
export const CPUID_OSXSAVE = 1 << 3;

/** Byte offsets in the vCPU state page (struct zz_vcpu_state, 4 KiB, little-endian). */
export const STATE = {
  gpr: 0, // 16 x u64: rax rcx rdx rbx rsp rbp rsi rdi r8..r15
  rip: 128,
  rflags: 136,
  cr0: 144,
  cr2: 152,
  cr3: 160,
  cr4: 168,
  efer: 176,
  xcr0: 184,
  seg: 192, // 8 x {u16 sel, u16 attr, u32 limit, u64 base}: es cs ss ds fs gs ldtr tr
  gdtr: 320,
  idtr: 336,
  kernelGsBase: 352,
  star: 360,
  lstar: 368,
  cstar: 376,
  sfmask: 384,
  sysenterCs: 392,
  sysenterEsp: 400,
  sysenterEip: 408,
  pat: 416,
  dr6: 424,
  dr7: 432,
  tscOffset: 440,
  dirty: 448,
  injectType: 456,
  injectVector: 460,
  injectHasError: 464,
  injectError: 468,
  irqWindowWanted: 472,
  runResult: 476,
  exitReason: 480,
  insnLen: 484,
  exitQual: 488, // 4 x u64
  exitGpa: 520,
  exitGla: 528,
  rawExitCode: 536,
  rawInfo1: 544,
  rawInfo2: 552,
  rawIntInfo: 560,
  statExits: 568,
  statFastExits: 576,
  statForwarded: 584,
  statRunNs: 592,
  statHypercalls: 600,
  statKind: 608, // EXIT_KINDS.length x u64
  statHcall: 800, // 64 x u64, by hypercall number (63 also counts numbers above)
  deferredSends: 1312, // u64: bit i = a deferred EVTCHNOP_send to domainSetSendPorts' port i
  singleshotNs: 1320, // u64: the single-shot timer in domain system time, all-ones when stopped
  timerBaseNs: 1328, // u64: monotonic ns of the domain's system time 0
} as const;

/** Names of the state page's exit kinds (ZZ_KIND_* in abi.h), by index. */
export const EXIT_KINDS = [
  'none', 'cpuid', 'msr', 'io', 'hlt', 'hypercall', 'exception', 'npf', 'shutdown', 'invalid',
  'intr', 'nmi', 'irq-window', 'xsetbv', 'rdpmc', 'invd', 'ud-insn', 'other',
  'kind18', 'kind19', 'kind20', 'kind21', 'kind22', 'kind23',
] as const;

/** Segment register indexes in STATE.seg. */
export const SEG = { es: 0, cs: 1, ss: 2, ds: 3, fs: 4, gs: 5, ldtr: 6, tr: 7 } as const;

/** The native functions, as properties of the global `__shim`. */
export interface Shim {
  abiVersion(): number;
  consoleWrite(text: string): void;
  consoleRead(): string;
  runInterruptible<T>(fn: () => T): T;
  monotonicNs(): number;
  wallClockMs(): number;
  readTsc(): bigint;
  physView(addr: number, length: number): ArrayBuffer;
  framesAlloc(count: number): HostPhysAddr;
  framesFree(addr: number, count: number): void;
  memStats(): MemStats;
  portIn(port: number, size: 1 | 2 | 4): number;
  portOut(port: number, size: 1 | 2 | 4, value: number): void;
  rdmsr(msr: number): bigint;
  wrmsr(msr: number, value: bigint): void;
  cpuid(leaf: number, subleaf: number): [number, number, number, number];
  bootInfo(): BootInfo;
  moduleData(index: number): ArrayBuffer;
  bootLog(): string;
  gc(): void;
  reboot(): void;

  // ABI v2: running guests (runtime-c-shim/abi.h, "guests").
  virtCaps(): VirtCaps;
  domainCreate(domid: number): number;
  domainDestroy(handle: number): void;
  domainSetNpt(handle: number, nptRoot: number): void;
  domainSetCpuid(handle: number, table: Uint32Array): void;
  domainSetMsrs(handle: number, table: Uint32Array): void;
  domainSetPorts(handle: number, bitmap: Uint8Array): void;
  domainSetMmio(handle: number, ranges: Float64Array): void;
  domainSetHypercalls(handle: number, table: Uint32Array): void;
  /** Fast-path device models (DEVICE_* flags), each reset when set. */
  domainSetDevices(handle: number, flags: number): void;
  /** Guest ports (at most SEND_PORTS) whose EVTCHNOP_send the shim records in state.deferredSends. */
  domainSetSendPorts(handle: number, ports: Uint32Array): void;
  vcpuCreate(domainHandle: number, vcpuId: number): VcpuCreated;
  vcpuDestroy(handle: number): void;
  vcpuRun(handle: number, deadlineNs: number): number;
}

/** Called by the shim's loop; returns the next timer deadline (monotonic ns) or -1. */
export type PollHook = () => number;

declare const globalThis: { __shim?: Shim; __zazenPoll?: PollHook };

let current: Shim | undefined;

/** Returns the shim: the native one when booted, or whatever setShim installed (tests). */
export function shim(): Shim {
  if (current) return current;
  const native = globalThis.__shim;
  if (!native) throw new Error('no shim: not booted and no fake installed');
  const version = native.abiVersion();
  if (version !== ABI_VERSION) {
    throw new Error(`shim ABI version ${version} does not match the bundle's ${ABI_VERSION}`);
  }
  current = native;
  return current;
}

/** Installs a shim (a fake in tests); undefined goes back to the native one. */
export function setShim(s: Shim | undefined): void {
  current = s;
}

/** Registers the function the shim's loop calls after each batch of events. */
export function setPollHook(hook: PollHook): void {
  globalThis.__zazenPoll = hook;
}
