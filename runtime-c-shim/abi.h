/* The shim's native ABI: every function TypeScript may call, mirrored by src/hv/abi.ts. */
#ifndef ZAZEN_ABI_H
#define ZAZEN_ABI_H
#include <stdint.h>

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
#define ZAZEN_ABI_VERSION 3

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
       frames (4 KiB-aligned only: to get a 2 MiB-aligned run, ask for more and free \
       the head and tail); throws RangeError when memory is short. */                \
    X(framesAlloc, abi_frames_alloc, 1)                                              \
    /* framesFree(addr, count): returns frames from framesAlloc, whole runs or any   \
       part of one; throws on a range that was not allocated. */                     \
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

/*
 * ABI v2: running guests. These calls live in js_vcpu.c (the vCPU side of the shim);
 * the run results, exit reasons and the vCPU state page below are shared with
 * TypeScript (STATE and the constants in src/hv/abi.ts). Vendor-neutral: SVM now, VMX
 * later produce the same state page and exit record.
 */
#define ZAZEN_ABI_GUEST_FUNCTIONS(X)                                                 \
    /* virtCaps(): {vendor:'amd'|'intel'|'other', svm, npt, nrips, decodeAssists, vmcbClean,\
    *   flushByAsid, asids, vmx, usable, reason}: usable is true only with SVM+NPT enabled;\
    *   reason names what is missing ("no SVM", "SVM disabled by firmware (VM_CR.SVMDIS)",\
    *   "no nested paging", "Intel VMX is not supported yet"). */                 \
    X(virtCaps, abi_virt_caps, 0)                                                 \
    /* domainCreate(domid): handle (small integer). Allocates the per-domain fast-path \
       tables and the MSRPM; ASIDs are per vCPU, and one all-ones IOPM is shared. */  \
    X(domainCreate, abi_domain_create, 1)                                         \
    /* domainDestroy(handle): frees everything domainCreate and vcpuCreate allocated for it. */\
    X(domainDestroy, abi_domain_destroy, 1)                                       \
    /* domainSetNpt(handle, nptRootHostPhys): nested CR3 for all its vCPUs; flushes  \
       TLBs. Call it again (same root) after changing nested page table entries. */   \
    X(domainSetNpt, abi_domain_set_npt, 2)                                        \
    /* domainSetCpuid(handle, Uint32Array): entries of 7 u32 {leaf, subleaf (0xFFFFFFFF: any),\
    * eax, ebx, ecx, edx, flags}; flags bit 0: EBX = vcpu id (Xen leaf base+4), bit 1:\
    * EBX[31:24] = APIC id (leaf 1), bit 2: EDX = x2APIC id (leaf 0xB/0x1F), bit 3: ECX bit 27\
    * OSXSAVE mirrors guest CR4.OSXSAVE (leaf 1). A leaf not in the table answers zeros. */\
    X(domainSetCpuid, abi_domain_set_cpuid, 2)                                    \
    /* domainSetMsrs(handle, Uint32Array): entries of 4 u32 {msr, action, lo, hi}; action 0:\
    * reads give lo/hi, writes ignored; 1: per-vCPU value initialised to lo/hi, read/write in\
    * C; 2: forwarded to TypeScript (exit MSR); 3: the guest's own via VMCB (EFER, PAT, STAR,\
    * LSTAR, CSTAR, SFMASK, KERNEL_GS_BASE, FS/GS base, SYSENTER_*; TSC reads pass through\
    * the TSC offset). Any MSR not in the table injects #GP, as Xen does. */      \
    X(domainSetMsrs, abi_domain_set_msrs, 2)                                      \
    /* domainSetPorts(handle, Uint8Array(8192)): bit p set = port p forwarded to TypeScript;\
    * other ports read all-ones and drop writes, in C. */                         \
    X(domainSetPorts, abi_domain_set_ports, 2)                                    \
    /* domainSetDevices(handle, flags): device models in the fast path (ZZ_DEVICE_*); their\
    * ports are handled in C before the port table is consulted. */               \
    X(domainSetDevices, abi_domain_set_devices, 2)                                \
    /* domainSetSendPorts(handle, Uint32Array): up to ZZ_SEND_PORTS guest ports whose     \
    * EVTCHNOP_send the fast path records in state.deferred_sends (bit i: ports[i]) and   \
    * answers 0, when event_channel_op is fast in the hypercall table. TypeScript performs\
    * the sends after the run returns, before anything else. */                   \
    X(domainSetSendPorts, abi_domain_set_send_ports, 2)                           \
    /* domainSetMmio(handle, Float64Array [base0, length0, base1, length1, ...]): a nested page\
    * fault inside these guest-physical ranges is forwarded with the decoded access; any other\
    * nested page fault crashes the domain. */                                    \
    X(domainSetMmio, abi_domain_set_mmio, 2)                                      \
    /* domainSetHypercalls(handle, Uint32Array(64 * 2)): per hypercall number n, entry\
    * [2n] = mode (0: -ENOSYS in C, 1: forward to TypeScript, 2: fast in C), [2n+1] = data for\
    * the fast handler. Fast handlers: xen_version (17): XENVER_version (sub-op 0) answers\
    * data, other sub-ops forwarded; sched_op (29): SCHEDOP_yield (0) ends the slice (run\
    * result PREEMPT), other sub-ops forwarded; event_channel_op (32): EVTCHNOP_send (4) to a\
    * domainSetSendPorts port is deferred, everything else forwarded; vcpu_op (24):\
    * VCPUOP_set_singleshot_timer (8) and VCPUOP_stop_singleshot_timer (9) for the calling\
    * vCPU update state.singleshot_ns (the run then ends by the new deadline), the rest and\
    * any call C cannot check are forwarded. Hypercalls from CPL > 0 get -EPERM in C. */\
    X(domainSetHypercalls, abi_domain_set_hypercalls, 2)                          \
    /* vcpuCreate(domainHandle, vcpuId): {handle, state}: state is the host-physical address of\
    * the vCPU's ZzVcpuState page (layout below), which TypeScript views with physView. */\
    X(vcpuCreate, abi_vcpu_create, 2)                                             \
    /* vcpuDestroy(handle). */                                                    \
    X(vcpuDestroy, abi_vcpu_destroy, 1)                                           \
    /* vcpuRun(handle, deadlineNs): runs the vCPU until something needs TypeScript     \
       (deadlineNs: monotonic ns, Infinity for none); returns a                        \
    * run result (ZZ_RUN_*); the exit record in the state page says more. Fast exits (CPUID,\
    * MSRs in C, unforwarded ports, fast hypercalls, host interrupts) never return. Before\
    * entering, fields flagged in state.dirty are loaded into the hardware state; after an\
    * exit that returns, the whole state page is current. */                      \
    X(vcpuRun, abi_vcpu_run, 2)

#define ZZ_RUN_EXIT     1 /* a forwarded exit: see exit_reason */
#define ZZ_RUN_PREEMPT  2 /* the deadline passed, or the guest yielded */
#define ZZ_RUN_HOST     3 /* console input arrived: let the REPL run, then resume */
#define ZZ_RUN_HALT     4 /* HLT with nothing to inject */
#define ZZ_RUN_CRASH    5 /* the domain must be crashed; exit_reason/qual say why */

#define ZZ_EXIT_HYPERCALL  1
#define ZZ_EXIT_IO         2
#define ZZ_EXIT_MMIO       3
#define ZZ_EXIT_MSR        4
#define ZZ_EXIT_SHUTDOWN   5
#define ZZ_EXIT_INVALID    6
#define ZZ_EXIT_NPF        7
#define ZZ_EXIT_UNHANDLED  8
#define ZZ_EXIT_IRQ_WINDOW 9

/* domainSetDevices flags. PIT2: channel 2 of an i8254 and port 0x61 (pit.c). */
#define ZZ_DEVICE_PIT2  (1u << 0)

/* Most ports domainSetSendPorts takes (bits of state.deferred_sends). */
#define ZZ_SEND_PORTS   32

#define ZZ_INJECT_NONE  0
#define ZZ_INJECT_EXT   1
#define ZZ_INJECT_NMI   2
#define ZZ_INJECT_EXC   3
#define ZZ_INJECT_SOFT  4

/* Exit kinds for the per-vCPU counters (stat_kind); the same for SVM and VMX. */
#define ZZ_KIND_NONE       0
#define ZZ_KIND_CPUID      1
#define ZZ_KIND_MSR        2
#define ZZ_KIND_IO         3
#define ZZ_KIND_HLT        4
#define ZZ_KIND_HYPERCALL  5
#define ZZ_KIND_EXCEPTION  6
#define ZZ_KIND_NPF        7
#define ZZ_KIND_SHUTDOWN   8
#define ZZ_KIND_INVALID    9
#define ZZ_KIND_INTR      10
#define ZZ_KIND_NMI       11
#define ZZ_KIND_IRQ_WINDOW 12
#define ZZ_KIND_XSETBV    13
#define ZZ_KIND_RDPMC     14
#define ZZ_KIND_INVD      15
#define ZZ_KIND_UD_INSN   16
#define ZZ_KIND_OTHER     17
#define ZZ_KIND_COUNT     24

struct zz_seg {
    uint16_t sel, attr; /* attr: SVM packed form (access byte, flags nibble in 8-11) */
    uint32_t limit;
    uint64_t base;
};

struct zz_vcpu_state {
    uint64_t gpr[16]; /* rax rcx rdx rbx rsp rbp rsi rdi r8..r15 */
    uint64_t rip, rflags;
    uint64_t cr0, cr2, cr3, cr4, efer, xcr0;
    struct zz_seg seg[8]; /* es cs ss ds fs gs ldtr tr */
    struct zz_seg gdtr, idtr;
    uint64_t kernel_gs_base, star, lstar, cstar, sfmask;
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t pat, dr6, dr7, tsc_offset;
    uint64_t dirty;
    uint32_t inject_type, inject_vector, inject_has_error, inject_error;
    uint32_t irq_window_wanted;
    uint32_t run_result, exit_reason, insn_len;
    uint64_t exit_qual[4];
    uint64_t exit_gpa, exit_gla;
    uint64_t raw_exit_code, raw_info1, raw_info2, raw_intinfo;
    uint64_t stat_exits, stat_fast_exits, stat_forwarded;
    uint64_t stat_run_ns;
    uint64_t stat_hypercalls;
    /* Every exit by its vendor-neutral kind (ZZ_KIND_*), fast or forwarded. */
    uint64_t stat_kind[ZZ_KIND_COUNT];
    /* Every hypercall by number (0..63; stat_hcall[63] also counts numbers above). */
    uint64_t stat_hcall[64];
    /* EVTCHNOP_sends the fast path took for TypeScript (bit i: the ith domainSetSendPorts
     * port); TypeScript clears it once it has performed them. */
    uint64_t deferred_sends;
    /* The guest's single-shot timer (VCPUOP_set_singleshot_timer), in the domain's system
     * time, or UINT64_MAX when stopped: the fast path sets and stops it, TypeScript reads
     * it, fires it and sets it too. timer_base_ns is the monotonic ns of system time 0
     * (TypeScript writes it before the first run). */
    uint64_t singleshot_ns;
    uint64_t timer_base_ns;
};

_Static_assert(sizeof(struct zz_vcpu_state) <= 4096, "the state page is one frame");
_Static_assert(__builtin_offsetof(struct zz_vcpu_state, rip) == 128, "state rip");
_Static_assert(__builtin_offsetof(struct zz_vcpu_state, seg) == 192, "state seg");
_Static_assert(__builtin_offsetof(struct zz_vcpu_state, gdtr) == 320, "state gdtr");
_Static_assert(__builtin_offsetof(struct zz_vcpu_state, kernel_gs_base) == 352, "state kgs");
_Static_assert(__builtin_offsetof(struct zz_vcpu_state, pat) == 416, "state pat");
_Static_assert(__builtin_offsetof(struct zz_vcpu_state, dirty) == 448, "state dirty");
_Static_assert(__builtin_offsetof(struct zz_vcpu_state, inject_type) == 456, "state inject");
_Static_assert(__builtin_offsetof(struct zz_vcpu_state, irq_window_wanted) == 472, "state win");
_Static_assert(__builtin_offsetof(struct zz_vcpu_state, exit_reason) == 480, "state reason");
_Static_assert(__builtin_offsetof(struct zz_vcpu_state, exit_qual) == 488, "state qual");
_Static_assert(__builtin_offsetof(struct zz_vcpu_state, exit_gpa) == 520, "state gpa");
_Static_assert(__builtin_offsetof(struct zz_vcpu_state, raw_exit_code) == 536, "state raw");
_Static_assert(__builtin_offsetof(struct zz_vcpu_state, stat_exits) == 568, "state stats");
_Static_assert(__builtin_offsetof(struct zz_vcpu_state, stat_hypercalls) == 600, "state hc");
_Static_assert(__builtin_offsetof(struct zz_vcpu_state, stat_kind) == 608, "state kinds");
_Static_assert(__builtin_offsetof(struct zz_vcpu_state, stat_hcall) == 800, "state hcalls");
_Static_assert(__builtin_offsetof(struct zz_vcpu_state, deferred_sends) == 1312, "state sends");
_Static_assert(__builtin_offsetof(struct zz_vcpu_state, singleshot_ns) == 1320, "state timer");

#define ZZ_DIRTY_GPR (1u << 0)
#define ZZ_DIRTY_RIP (1u << 1)
#define ZZ_DIRTY_CR  (1u << 2)
#define ZZ_DIRTY_SEG (1u << 3)
#define ZZ_DIRTY_MSR (1u << 4)
#define ZZ_DIRTY_DR  (1u << 5)
#define ZZ_DIRTY_TSC (1u << 6)
#define ZZ_DIRTY_ALL 0x7f

#endif
