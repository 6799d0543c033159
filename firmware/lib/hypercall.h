/* Raw Xen hypercall instructions (VMCALL, VMMCALL, hypercall-page call) for both ABIs. */
#ifndef FW_HYPERCALL_H
#define FW_HYPERCALL_H

/*
 * Register ABI (xen public/arch-x86/xen-x86_{64,32}.h):
 *   64-bit: number in RAX, arguments in RDI, RSI, RDX, R10, R8; result in RAX.
 *   32-bit: number in EAX, arguments in EBX, ECX, EDX, ESI, EDI; result in EAX.
 * Every argument register is an in/out operand because Xen debug builds deliberately
 * clobber the argument registers a hypercall does not use, and nothing promises they
 * survive the others either.
 */

/* Which instruction enters the hypervisor. */
enum hc_insn { HC_INSN_VMCALL, HC_INSN_VMMCALL, HC_INSN_PAGE };

#if defined(__x86_64__)
#define HC_ASM(insn, nr, a1, a2, a3, a4, a5, ret)                                            \
	do {                                                                                 \
		register unsigned long r10_ __asm__("r10") = (a4);                           \
		register unsigned long r8_ __asm__("r8") = (a5);                             \
		unsigned long rdi_ = (a1), rsi_ = (a2), rdx_ = (a3);                         \
		__asm__ volatile(insn                                                        \
				 : "=a"(ret), "+D"(rdi_), "+S"(rsi_), "+d"(rdx_), "+r"(r10_), \
				   "+r"(r8_)                                                  \
				 : "0"(nr)                                                    \
				 : "memory");                                                 \
	} while (0)
/* The page stub loads EAX itself, so RAX carries the stub address into the CALL. */
#define HC_PAGE_CALL "call *%%rax"
#else
#define HC_ASM(insn, nr, a1, a2, a3, a4, a5, ret)                                            \
	do {                                                                                 \
		unsigned long ebx_ = (a1), ecx_ = (a2), edx_ = (a3), esi_ = (a4), edi_ = (a5); \
		__asm__ volatile(insn                                                        \
				 : "=a"(ret), "+b"(ebx_), "+c"(ecx_), "+d"(edx_), "+S"(esi_), \
				   "+D"(edi_)                                                 \
				 : "0"(nr)                                                    \
				 : "memory");                                                 \
	} while (0)
#define HC_PAGE_CALL "call *%%eax"
#endif

/*
 * Issues hypercall nr with five arguments through the given instruction; for
 * HC_INSN_PAGE, page is the hypercall page (stub nr lives at page + nr * 32).
 */
static inline long hc_raw(enum hc_insn insn, void *page, unsigned long nr, unsigned long a1,
			  unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)
{
	long ret;
	switch (insn) {
	case HC_INSN_VMMCALL:
		HC_ASM("vmmcall", nr, a1, a2, a3, a4, a5, ret);
		break;
	case HC_INSN_PAGE:
		HC_ASM(HC_PAGE_CALL, (unsigned long)page + nr * 32, a1, a2, a3, a4, a5, ret);
		break;
	default:
		HC_ASM("vmcall", nr, a1, a2, a3, a4, a5, ret);
		break;
	}
	return ret;
}

#endif
