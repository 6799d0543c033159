/* CPU bring-up and the privileged instructions the rest of the shim uses. */
#ifndef ZAZEN_CPU_H
#define ZAZEN_CPU_H
#include <stdint.h>

/* Loads the GDT, TSS (with IST stacks) and IDT; enables SSE/XSAVE state; sets FS_BASE
 * to a zeroed thread block (musl reads the stack canary at %fs:0x28). */
void cpu_init(void);

/* Points FS_BASE back at the shim's zeroed thread block (the exception report does this
 * before printing, in case the faulting code broke it). */
void cpu_restore_fs_base(void);

/* Reads an MSR; returns 0, or -1 if the CPU raised #GP (recovered by the #GP handler). */
int cpu_rdmsr_safe(uint32_t msr, uint64_t *value);

/* Writes an MSR; returns 0, or -1 if the CPU raised #GP. */
int cpu_wrmsr_safe(uint32_t msr, uint64_t value);

/* Executes CPUID. */
void cpu_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4]);

/* Port I/O. */
uint32_t cpu_port_in(uint16_t port, int size);
void cpu_port_out(uint16_t port, int size, uint32_t value);

/* Resets the machine: keyboard controller, then a triple fault. */
void cpu_reboot(void) __attribute__((noreturn));

/* Interrupt vectors the shim assigns. 0x20-0x2F belong to the masked 8259 PICs. */
#define CPU_VEC_SERIAL      0x30    /* COM1 receive, ISA IRQ 4 through the IOAPIC */
#define CPU_VEC_TIMER       0xF0    /* LAPIC timer (timer_wait_until) */
#define CPU_VEC_LAPIC_ERROR 0xFE
#define CPU_VEC_SPURIOUS    0xFF

/* Registers a handler for an external interrupt vector (32-255), run on an IST stack
 * with SSE state preserved and interrupts off; the handler sends its own EOI
 * (cpu_lapic_eoi). Vectors without a handler are logged once and EOI'd. */
typedef void (*cpu_irq_handler)(uint8_t vector);
void cpu_set_irq_handler(uint8_t vector, cpu_irq_handler fn);

/* Signals end of interrupt to the local APIC. */
void cpu_lapic_eoi(void);

#endif
