// A fake shim for unit tests: paged host memory, a scripted console, a hand-driven clock, scripted guests.
import type { BootInfo, BootModule, HostPhysAddr, MemStats, Shim, VcpuCreated, VirtCaps } from '../src/hv/abi';
import { ABI_VERSION } from '../src/hv/abi';
import { encodeUtf8 } from '../src/runtime/utf8';
import { FakeMemory } from './fakeMemory';
import { FakeVirt } from './fakeVirt';

/** A boot module for the fake: its name and contents. */
export interface FakeModule {
  name: string;
  cmdline?: string;
  data: Uint8Array | string;
}

/** How to build the fake machine; every field has a default. */
export interface FakeShimOptions {
  /** Host memory size (physical addresses 0..size); frames come from 4 MiB up. Default 64 MiB. */
  memoryBytes?: number;
  modules?: FakeModule[];
  /** CPUID answers by "leaf" or "leaf:subleaf" (hex or decimal); missing leaves read as zeros. */
  cpuid?: Record<string, [number, number, number, number]>;
  /** MSR values; any other MSR raises #GP (RangeError). */
  msrs?: Record<number, bigint>;
  cmdline?: string;
  tscHz?: number;
  rsdp?: number;
  memStats?: Partial<MemStats>;
  bootLog?: string;
  abiVersion?: number;
}

/** The engine's error for a Ctrl-C during runInterruptible (QuickJS throws an InternalError). */
export class InternalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InternalError';
  }
}

/** CPUID of QEMU's qemu64 model with +svm,+npt (AMD vendor, SVM and nested paging). */
export const QEMU64_SVM_CPUID: Record<string, [number, number, number, number]> = {
  '0': [0xd, 0x68747541, 0x444d4163, 0x69746e65],
  '1': [0x663, 0x800, 0x80002001, 0x078bfbfd],
  '0x80000000': [0x8000000a, 0x68747541, 0x444d4163, 0x69746e65],
  '0x80000001': [0x663, 0, 0x00000005, 0x2191abff],
  '0x80000008': [0x3030, 0, 0, 0],
  '0x8000000a': [1, 16, 0, 1],
};

const FRAME = 4096;
const FRAME_POOL_BASE = 0x400000;

/**
 * Implements the whole Shim interface in memory. physView of a page-aligned 4 KiB range
 * aliases that page (as the shim's views alias RAM); other ranges are copies. The ABI v2
 * calls go to `virt` (test/fakeVirt.ts): domains, tables and scripted vCPUs.
 */
export class FakeShim implements Shim {
  /** Node cannot alias part of a buffer: views are of one whole frame (see FrameSource). */
  readonly physViewPerFrameOnly = true;
  /** Everything written to the console. */
  output = '';
  /** The monotonic clock, in ns; tests move it with advance(). */
  nowNs = 0;
  /** Wall clock at nowNs = 0. */
  epochMs = Date.UTC(2025, 0, 1);
  /** Set to make the next runInterruptible call fail as if Ctrl-C arrived. */
  interruptNext = false;
  readonly memory: FakeMemory;
  readonly virt: FakeVirt;
  readonly portWrites: { port: number; size: number; value: number }[] = [];
  gcCount = 0;
  rebootCount = 0;
  private input = '';
  private readonly opts: FakeShimOptions;
  private readonly moduleBytes: Uint8Array[];
  private readonly modules: BootModule[];
  private readonly frames = new Map<number, number>();

  constructor(opts: FakeShimOptions = {}) {
    this.opts = opts;
    this.memory = new FakeMemory(opts.memoryBytes ?? 64 * 1024 * 1024);
    this.virt = new FakeVirt(this.memory, (n) => this.framesAlloc(n), (a, n) => this.framesFree(a, n), { now: () => this.nowNs, advance: (ms) => this.advance(ms) });
    this.virt.inputPending = () => this.input.length > 0;
    this.moduleBytes = (opts.modules ?? []).map((m) => (typeof m.data === 'string' ? encodeUtf8(m.data) : m.data));
    let addr = 0x10000000;
    this.modules = (opts.modules ?? []).map((m, i) => {
      const mod: BootModule = { name: m.name, cmdline: m.cmdline ?? `/boot/${m.name}`, addr: addr as HostPhysAddr, size: this.moduleBytes[i].length };
      addr += Math.ceil(mod.size / FRAME + 1) * FRAME;
      return mod;
    });
  }

  /** Queues bytes (char codes 0-255) as if typed on the serial line. */
  sendInput(bytes: string): void {
    this.input += bytes;
  }

  /** Returns and clears the console output so far. */
  takeOutput(): string {
    const out = this.output;
    this.output = '';
    return out;
  }

  /** Moves the monotonic clock forward. */
  advance(ms: number): void {
    this.nowNs += ms * 1e6;
  }

  /** Stores bytes in host memory. */
  writePhys(addr: number, bytes: Uint8Array): void {
    this.memory.check(addr, bytes.length, 'writePhys');
    this.memory.write(addr, bytes);
  }

  /** Reads bytes from host memory. */
  readPhys(addr: number, length: number): Uint8Array {
    this.memory.check(addr, length, 'readPhys');
    return this.memory.read(addr, length);
  }

  abiVersion(): number {
    return this.opts.abiVersion ?? ABI_VERSION;
  }

  consoleWrite(text: string): void {
    if (typeof text !== 'string') throw new TypeError('consoleWrite: text must be a string');
    this.output += text;
  }

  consoleRead(): string {
    const s = this.input;
    this.input = '';
    return s;
  }

  runInterruptible<T>(fn: () => T): T {
    if (typeof fn !== 'function') throw new TypeError('runInterruptible: not a function');
    if (this.interruptNext) {
      this.interruptNext = false;
      throw new InternalError('interrupted');
    }
    return fn();
  }

  monotonicNs(): number {
    return this.nowNs;
  }

  wallClockMs(): number {
    return this.epochMs + this.nowNs / 1e6;
  }

  /** Frames handed out and not freed, by address. */
  get liveFrames(): Map<number, number> {
    return new Map(this.frames);
  }

  /** The fake TSC runs at 1 GHz from 0, like QEMU's under -icount shift=0. */
  readTsc(): bigint {
    return BigInt(Math.floor(this.nowNs));
  }

  physView(addr: number, length: number): ArrayBuffer {
    this.memory.check(addr, length, 'physView');
    return this.memory.view(addr, length);
  }

  framesAlloc(count: number): HostPhysAddr {
    if (!Number.isInteger(count) || count <= 0) throw new RangeError('framesAlloc: bad count');
    let addr = FRAME_POOL_BASE;
    for (const [start, n] of Array.from(this.frames.entries()).sort((a, b) => a[0] - b[0])) {
      if (addr + count * FRAME <= start) break;
      addr = Math.max(addr, start + n * FRAME);
    }
    if (addr + count * FRAME > this.memory.size) throw new RangeError('framesAlloc: out of memory');
    this.frames.set(addr, count);
    this.memory.zeroPages(addr / FRAME, count);
    return addr as HostPhysAddr;
  }

  /** Frees frames from framesAlloc; like the shim, any part of an allocation may be given back. */
  framesFree(addr: number, count: number): void {
    const end = addr + count * FRAME;
    for (const [start, n] of this.frames) {
      const stop = start + n * FRAME;
      if (addr < start || end > stop || !Number.isInteger(count) || count < 1 || addr % FRAME) continue;
      this.frames.delete(start);
      if (addr > start) this.frames.set(start, (addr - start) / FRAME);
      if (end < stop) this.frames.set(end, (stop - end) / FRAME);
      return;
    }
    throw new RangeError(`framesFree: 0x${addr.toString(16)}/${count} was not allocated`);
  }

  memStats(): MemStats {
    const allocated = Array.from(this.frames.values()).reduce((a, n) => a + n * FRAME, 0);
    return {
      totalBytes: 512 * 1024 * 1024,
      freeBytes: 480 * 1024 * 1024 - allocated,
      imageBytes: 1536 * 1024,
      stackBytes: 256 * 1024,
      heapBytes: 10 * 1024 * 1024,
      heapUsedBytes: 6 * 1024 * 1024,
      framesAllocatedBytes: allocated,
      moduleBytes: this.moduleBytes.reduce((a, b) => a + b.length, 0),
      ...this.opts.memStats,
    };
  }

  portIn(port: number, size: 1 | 2 | 4): number {
    if (![1, 2, 4].includes(size)) throw new RangeError('portIn: size must be 1, 2 or 4');
    return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
  }

  portOut(port: number, size: 1 | 2 | 4, value: number): void {
    if (![1, 2, 4].includes(size)) throw new RangeError('portOut: size must be 1, 2 or 4');
    this.portWrites.push({ port, size, value });
  }

  rdmsr(msr: number): bigint {
    const v = this.opts.msrs?.[msr];
    if (v === undefined) throw new RangeError(`rdmsr 0x${msr.toString(16)}: #GP`);
    return v;
  }

  wrmsr(msr: number, value: bigint): void {
    if (this.opts.msrs?.[msr] === undefined) throw new RangeError(`wrmsr 0x${msr.toString(16)}: #GP`);
    this.opts.msrs[msr] = value;
  }

  cpuid(leaf: number, subleaf: number): [number, number, number, number] {
    const table = this.opts.cpuid ?? QEMU64_SVM_CPUID;
    for (const key of Object.keys(table)) {
      const [l, s] = key.split(':').map((x) => Number(x));
      if (l === leaf && (s === undefined || Number.isNaN(s) ? true : s === subleaf)) return table[key].slice() as [number, number, number, number];
    }
    return [0, 0, 0, 0];
  }

  bootInfo(): BootInfo {
    return {
      loader: 'multiboot1',
      firmware: 'bios',
      cmdline: this.opts.cmdline ?? 'zazen.elf loglvl=all',
      rsdp: this.opts.rsdp ?? 0,
      memoryMap: [
        { base: 0, length: 0x9fc00, type: 1 },
        { base: 0x100000, length: 512 * 1024 * 1024 - 0x100000, type: 1 },
      ],
      modules: this.modules.map((m) => ({ ...m })),
      imageStart: 0x100000,
      imageEnd: 0x280000,
      tscHz: this.opts.tscHz ?? 2_994_375_000,
      apicMode: 'xapic',
    };
  }

  moduleData(index: number): ArrayBuffer {
    const bytes = this.moduleBytes[index];
    if (!bytes) throw new RangeError(`moduleData: no module ${index}`);
    return bytes.slice().buffer;
  }

  bootLog(): string {
    return this.opts.bootLog ?? 'zazen: shim up\nzazen: 512 MiB RAM\n';
  }

  gc(): void {
    this.gcCount++;
  }

  reboot(): void {
    this.rebootCount++;
  }

  virtCaps(): VirtCaps {
    return { ...this.virt.caps };
  }

  domainCreate(domid: number): number {
    return this.virt.domainCreate(domid);
  }

  domainDestroy(handle: number): void {
    this.virt.domainDestroy(handle);
  }

  domainSetNpt(handle: number, nptRoot: number): void {
    this.virt.domainSetNpt(handle, nptRoot);
  }

  domainSetCpuid(handle: number, table: Uint32Array): void {
    this.virt.domainSetCpuid(handle, table);
  }

  domainSetMsrs(handle: number, table: Uint32Array): void {
    this.virt.domainSetMsrs(handle, table);
  }

  domainSetPorts(handle: number, bitmap: Uint8Array): void {
    this.virt.domainSetPorts(handle, bitmap);
  }

  domainSetMmio(handle: number, ranges: Float64Array): void {
    this.virt.domainSetMmio(handle, ranges);
  }

  domainSetSendPorts(handle: number, ports: Uint32Array): void {
    this.virt.domainSetSendPorts(handle, ports);
  }

  domainSetDevices(handle: number, flags: number): void {
    this.virt.domainSetDevices(handle, flags);
  }

  domainSetHypercalls(handle: number, table: Uint32Array): void {
    this.virt.domainSetHypercalls(handle, table);
  }

  vcpuCreate(domainHandle: number, vcpuId: number): VcpuCreated {
    return this.virt.vcpuCreate(domainHandle, vcpuId);
  }

  vcpuDestroy(handle: number): void {
    this.virt.vcpuDestroy(handle);
  }

  vcpuRun(handle: number, deadlineNs: number): number {
    return this.virt.vcpuRun(handle, deadlineNs);
  }
}
