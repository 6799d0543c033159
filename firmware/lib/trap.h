/* Exception handling: an IDT that reports unexpected faults and recovers expected ones. */
#ifndef FW_TRAP_H
#define FW_TRAP_H
#include <stdint.h>

/* GDT selectors set up by the entry code (entry32.S / entry64.S). */
#define SEL_CODE32 0x08
#define SEL_DATA 0x10
#define SEL_CODE64 0x18

/* Registers saved by the exception stubs, lowest address first. */
struct trap_frame {
#if defined(__x86_64__)
	unsigned long r15, r14, r13, r12, r11, r10, r9, r8;
	unsigned long di, si, bp, bx, dx, cx, ax;
#else
	unsigned long di, si, bp, sp_unused, bx, dx, cx, ax; /* PUSHA order */
#endif
	unsigned long vector, error, ip, cs, flags;
};

/* Installs an IDT covering vectors 0-31. */
void trap_init(void);

/* Reads an MSR; returns -1 on success (value stored) or the exception vector it raised. */
int trap_rdmsr_safe(uint32_t msr, uint64_t *value);

/* Writes an MSR; returns -1 on success or the exception vector it raised. */
int trap_wrmsr_safe(uint32_t msr, uint64_t value);

/* Short mnemonic of an exception vector ("#GP"). */
const char *trap_name(unsigned vector);

/* Executes UD2 under recovery; returns the vector raised (6 when all is well). */
int trap_ud2_safe(void);

/* Called by the stubs; resumes a *_safe operation or reports the fault and crashes. */
void trap_handle(struct trap_frame *f);

/* Assembly side: stub addresses per vector, and the recovery state of *_safe calls. */
extern const unsigned long trap_stubs[32];
extern unsigned long trap_resume_ip;
extern int trap_fault_vector;

#endif
