// The shim's native ABI as TypeScript sees it: mirrors runtime-c-shim/abi.h.

/** Must equal ZAZEN_ABI_VERSION in runtime-c-shim/abi.h. */
export const ABI_VERSION = 1;

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
