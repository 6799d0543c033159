/* The shim's native ABI: every function TypeScript may call, mirrored by src/hv/abi.ts. */
#ifndef ZAZEN_ABI_H
#define ZAZEN_ABI_H

/*
 * Bump ZAZEN_ABI_VERSION whenever a call is added, removed or changes meaning, and
 * change ABI_VERSION in src/hv/abi.ts to match: the bundle refuses to start on a
 * mismatch.
 *
 * The functions live as properties of one global object, `__shim`. Each X() entry is
 * (js name, C function, arity). Calls check every argument and throw a TypeError or
 * RangeError on bad input; none of them can fault the machine.
 *
 * Event loop contract: after the bundle has run, the shim loops forever:
 *   1. run every pending promise job;
 *   2. call globalThis.__zazenPoll(), which returns the next timer deadline in
 *      monotonic nanoseconds, or -1 for none;
 *   3. run every pending promise job again;
 *   4. if no console input is waiting, halt the CPU until the next interrupt or the
 *      deadline.
 * Anything thrown out of the bundle or out of __zazenPoll is printed with its stack and
 * the loop goes on.
 */
#define ZAZEN_ABI_VERSION 1

#define ZAZEN_ABI_FUNCTIONS(X)                                                       \
    /* abiVersion(): number, ZAZEN_ABI_VERSION. */                                   \
    X(abiVersion, abi_abi_version, 0)                                                \
    /* consoleWrite(text): writes the string as UTF-8 to COM1 and the screen. */     \
    X(consoleWrite, abi_console_write, 1)                                            \
    /* consoleRead(): string of the bytes received since the last call (each         \
       char code 0-255, undecoded); '' when none. */                                 \
    X(consoleRead, abi_console_read, 0)                                              \
    /* runInterruptible(fn): calls fn() with Ctrl-C armed; a Ctrl-C arriving on      \
       the serial line meanwhile stops it with a catchable InternalError             \
       ('interrupted') instead of being queued as input. Returns fn's result. */     \
    X(runInterruptible, abi_run_interruptible, 1)                                    \
    /* monotonicNs(): nanoseconds since boot, from the calibrated TSC. */            \
    X(monotonicNs, abi_monotonic_ns, 0)                                              \
    /* wallClockMs(): milliseconds since the Unix epoch (RTC at boot + TSC). */      \
    X(wallClockMs, abi_wall_clock_ms, 0)                                             \
    /* readTsc(): the raw time-stamp counter as a bigint (under QEMU -icount it      \
       counts instructions since reset, which the benchmarks use). */                \
    X(readTsc, abi_read_tsc, 0)                                                      \
    /* physView(addr, length): ArrayBuffer aliasing host-physical memory; throws     \
       RangeError unless the whole range is mapped memory outside the shim's own     \
       image, stacks and heap. */                                                    \
    X(physView, abi_phys_view, 2)                                                    \
    /* framesAlloc(count): physical address of count contiguous zeroed 4 KiB         \
       frames; throws RangeError when memory is short. */                            \
    X(framesAlloc, abi_frames_alloc, 1)                                              \
    /* framesFree(addr, count): returns frames from framesAlloc; throws on a range   \
       that was not allocated. */                                                    \
    X(framesFree, abi_frames_free, 2)                                                \
    /* memStats(): MemStats (see abi.ts). */                                         \
    X(memStats, abi_mem_stats, 0)                                                    \
    /* portIn(port, size): reads 1, 2 or 4 bytes from an I/O port. */                \
    X(portIn, abi_port_in, 2)                                                        \
    /* portOut(port, size, value): writes 1, 2 or 4 bytes to an I/O port. */         \
    X(portOut, abi_port_out, 3)                                                      \
    /* rdmsr(msr): bigint; throws RangeError if the CPU raises #GP. */               \
    X(rdmsr, abi_rdmsr, 1)                                                           \
    /* wrmsr(msr, value: bigint); throws RangeError if the CPU raises #GP. */        \
    X(wrmsr, abi_wrmsr, 2)                                                           \
    /* cpuid(leaf, subleaf): [eax, ebx, ecx, edx] as unsigned numbers. */            \
    X(cpuid, abi_cpuid, 2)                                                           \
    /* bootInfo(): BootInfo (see abi.ts). */                                         \
    X(bootInfo, abi_boot_info, 0)                                                    \
    /* moduleData(index): ArrayBuffer over boot module index's bytes. */             \
    X(moduleData, abi_module_data, 1)                                                \
    /* bootLog(): the shim's own log lines since power-on, for `xl dmesg`. */        \
    X(bootLog, abi_boot_log, 0)                                                      \
    /* gc(): runs the engine's garbage collector. */                                 \
    X(gc, abi_gc, 0)                                                                 \
    /* reboot(): resets the machine (keyboard controller, then triple fault). */    \
    X(reboot, abi_reboot, 0)

#endif
