/* Trap dispatch: exception reports with registers and backtrace, fixups, IRQ handlers. */
#include <stdint.h>
#include "console.h"
#include "cpu.h"
#include "klog.h"
#include "serial.h"
#include "trap.h"
#include "x86.h"

#define BACKTRACE_MAX_FRAMES 24

extern char __stack_guard[], __stack_bottom[], __stack_top[];
extern char ist_stacks[], ist_stacks_end[];
extern const uint64_t __ex_table_start[], __ex_table_end[];

volatile uint64_t trap_irq_total;
static cpu_irq_handler irq_handlers[256];
static volatile int exception_depth;

static const char *const exception_names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
    "#BR bound range", "#UD invalid opcode", "#NM device not available", "#DF double fault",
    "coprocessor overrun", "#TS invalid TSS", "#NP segment not present",
    "#SS stack fault", "#GP general protection", "#PF page fault", "reserved 15",
    "#MF x87 error", "#AC alignment check", "#MC machine check", "#XM SIMD error",
    "#VE virtualization", "#CP control protection", "reserved 22", "reserved 23",
    "reserved 24", "reserved 25", "reserved 26", "reserved 27", "#HV injection",
    "#VC VMM communication", "#SX security", "reserved 31",
};

void cpu_set_irq_handler(uint8_t vector, cpu_irq_handler fn)
{
    if (vector >= 32)
        irq_handlers[vector] = fn;
}

uint64_t trap_fixup(uint64_t rip)
{
    for (const uint64_t *e = __ex_table_start; e + 1 < __ex_table_end; e += 2)
        if (e[0] == rip)
            return e[1];
    return 0;
}

/* Returns the [lo, hi) bounds of the shim stack holding addr, or 0 if none does. */
static int stack_bounds(uint64_t addr, uint64_t *lo, uint64_t *hi)
{
    if (addr >= (uint64_t)__stack_bottom && addr < (uint64_t)__stack_top) {
        *lo = (uint64_t)__stack_bottom;
        *hi = (uint64_t)__stack_top;
        return 1;
    }
    if (addr >= (uint64_t)ist_stacks && addr < (uint64_t)ist_stacks_end) {
        /* IST stacks are 16 KiB each; frames never span two of them */
        *lo = addr & ~(uint64_t)(16 * 1024 - 1);
        *hi = *lo + 16 * 1024;
        return 1;
    }
    return 0;
}

void trap_backtrace(uint64_t rbp)
{
    klog("backtrace (return addresses; QuickJS frames without frame pointers end it):\n");
    uint64_t lo, hi, prev = 0, last = 0, repeats = 0;
    for (int n = 0; n < BACKTRACE_MAX_FRAMES; n++) {
        if ((rbp & 7) || !stack_bounds(rbp, &lo, &hi) || rbp + 16 > hi)
            break;
        /* within one stack, callers' frames lie strictly above their callees' */
        if (prev >= lo && prev < hi && rbp <= prev)
            break;
        uint64_t ret = ((uint64_t *)rbp)[1];
        if (ret == 0)
            break;
        if (ret == last) {
            repeats++; /* deep recursion: one line per distinct address */
        } else {
            if (repeats)
                klog("      (repeated %llu more times)\n", (unsigned long long)repeats);
            klog("  #%-2d 0x%016llx\n", n, (unsigned long long)ret);
            repeats = 0;
            last = ret;
        }
        prev = rbp;
        rbp = ((uint64_t *)rbp)[0];
    }
    if (repeats)
        klog("      (repeated %llu more times)\n", (unsigned long long)repeats);
}

static const char *stack_name(uint64_t rsp)
{
    if (rsp >= (uint64_t)__stack_guard && rsp < (uint64_t)__stack_bottom)
        return "main stack GUARD PAGE (overflow)";
    if (rsp >= (uint64_t)__stack_bottom && rsp <= (uint64_t)__stack_top)
        return "main stack";
    if (rsp >= (uint64_t)ist_stacks && rsp <= (uint64_t)ist_stacks_end)
        return "interrupt stack";
    return "unknown stack";
}

static void dump_frame(const struct trap_frame *f)
{
    unsigned long long e = f->error;
    klog("  rip %016llx  cs %04llx  rflags %016llx\n", (unsigned long long)f->rip,
         (unsigned long long)f->cs, (unsigned long long)f->rflags);
    klog("  rsp %016llx  ss %04llx  (%s)\n", (unsigned long long)f->rsp,
         (unsigned long long)f->ss, stack_name(f->rsp));
    klog("  rax %016llx  rbx %016llx  rcx %016llx\n", (unsigned long long)f->rax,
         (unsigned long long)f->rbx, (unsigned long long)f->rcx);
    klog("  rdx %016llx  rsi %016llx  rdi %016llx\n", (unsigned long long)f->rdx,
         (unsigned long long)f->rsi, (unsigned long long)f->rdi);
    klog("  rbp %016llx  r8  %016llx  r9  %016llx\n", (unsigned long long)f->rbp,
         (unsigned long long)f->r8, (unsigned long long)f->r9);
    klog("  r10 %016llx  r11 %016llx  r12 %016llx\n", (unsigned long long)f->r10,
         (unsigned long long)f->r11, (unsigned long long)f->r12);
    klog("  r13 %016llx  r14 %016llx  r15 %016llx\n", (unsigned long long)f->r13,
         (unsigned long long)f->r14, (unsigned long long)f->r15);
    klog("  cr0 %016llx  cr2 %016llx  cr3 %016llx\n", (unsigned long long)x86_read_cr0(),
         (unsigned long long)x86_read_cr2(), (unsigned long long)x86_read_cr3());
    klog("  cr4 %016llx  vector %llu  error %016llx\n", (unsigned long long)x86_read_cr4(),
         (unsigned long long)f->vector, e);
    if (f->vector == 14)
        klog("  page fault: %s %s access to %016llx%s\n", e & 1 ? "protection" : "not-present",
             e & 16 ? "instruction" : e & 2 ? "write" : "read",
             (unsigned long long)x86_read_cr2(),
             x86_read_cr2() >= (uint64_t)__stack_guard && x86_read_cr2() < (uint64_t)__stack_bottom
                 ? " = main stack guard page: stack overflow" : "");
}

static void exception(struct trap_frame *f)
{
    uint64_t resume;

    /* A #GP or #PF from an instruction listed in .ex_table (cpu_rdmsr_safe and friends)
     * resumes at its fixup address instead of being fatal. */
    if ((f->vector == 13 || f->vector == 14) && (resume = trap_fixup(f->rip)) != 0) {
        f->rip = resume;
        return;
    }
    if (exception_depth > 0) {
        /* Faulted while reporting a fault: the report path itself is broken, so give
         * the bare facts straight to the UART, without printf, and stop. */
        char msg[] = "\n*** nested exception 0x.. at rip 0x................; halting\n";
        static const char hex[] = "0123456789abcdef";
        msg[24] = hex[(f->vector >> 4) & 15];
        msg[25] = hex[f->vector & 15];
        for (int i = 0; i < 16; i++)
            msg[36 + i] = hex[(f->rip >> (60 - 4 * i)) & 15];
        serial_write(msg, sizeof(msg) - 1);
        x86_halt_forever();
    }
    exception_depth++;
    cpu_restore_fs_base(); /* printf in musl reads its canary through FS */
    klog("\n*** zazen: CPU exception %llu (%s), error code 0x%llx\n",
         (unsigned long long)f->vector, exception_names[f->vector & 31],
         (unsigned long long)f->error);
    dump_frame(f);
    trap_backtrace(f->rbp);
    /* An NMI (watchdog, front-panel button) or a breakpoint is reported, not fatal. */
    if (f->vector == 2 || f->vector == 3) {
        exception_depth--;
        return;
    }
    klog("*** halted\n");
    console_flush();
    x86_halt_forever();
}

void trap_dispatch(struct trap_frame *f)
{
    uint8_t v = (uint8_t)f->vector;
    static uint8_t warned[256];

    if (f->vector < 32) {
        exception(f);
        return;
    }
    trap_irq_total++;
    /* The 8259s are masked (ioapic.c) but may still raise their spurious IRQ 7/15 at
     * 0x27/0x2F; the LAPIC's spurious vector needs no EOI either. */
    if ((v >= 0x20 && v <= 0x2F) || v == CPU_VEC_SPURIOUS)
        return;
    if (irq_handlers[v]) {
        irq_handlers[v](v);
        return;
    }
    if (!warned[v]) {
        warned[v] = 1;
        klog("zazen: unexpected interrupt vector 0x%02x\n", v);
    }
    cpu_lapic_eoi();
}
