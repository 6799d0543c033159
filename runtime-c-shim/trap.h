/* Interrupt and exception entry: the saved register frame and the dispatcher (internal). */
#ifndef ZAZEN_TRAP_H
#define ZAZEN_TRAP_H
#include <stdint.h>

/* What isr.S saves, lowest address first; the CPU pushed rip..ss itself. */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;
};

/* Entry stubs in isr.S: 256 stubs of ISR_STUB_SIZE bytes each, starting at isr_stubs. */
#define ISR_STUB_SIZE 16
extern char isr_stubs[];

/* Bytes reserved per trap for the FPU/SSE/AVX image and whether XSAVE is used (cpu.c sets
 * both before interrupts are enabled; isr.S reads them). */
extern uint64_t trap_fpu_area_size;
extern uint8_t trap_use_xsave;

/* Called by isr.S with interrupts off for every vector. */
void trap_dispatch(struct trap_frame *f);

/* Count of external interrupts handled since boot (all vectors >= 32). */
extern volatile uint64_t trap_irq_total;

/* Prints a frame-pointer backtrace starting at rbp, walking only within the shim's
 * stacks and at most a bounded number of frames. */
void trap_backtrace(uint64_t rbp);

/* Looks up a fault address in the exception table; returns the resume address or 0.
 * An instruction that may #GP or #PF on purpose lists itself in section .ex_table as
 * ".quad fault_rip, resume_rip" (see cpu_rdmsr_safe); such a fault resumes there. */
uint64_t trap_fixup(uint64_t rip);

#endif
