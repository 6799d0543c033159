/* Macros shared by the two PVH entry paths (entry32.S, entry64.S). */
#ifndef FW_ENTRY_H
#define FW_ENTRY_H

#define STACK_SIZE 16384

/*
 * Checks, then clears .bss (the linker script provides __bss_start/__bss_end). A loader
 * must zero p_memsz beyond p_filesz; a test guest should notice when one does not, so
 * %ebp = 1 if any byte was non-zero (guest_start reports it), else 0. The page tables
 * and globals are then zeroed regardless. Uses EAX, ECX, EDI, EBP; %esi (the start_info
 * pointer) survives.
 */
#define ZERO_BSS                          \
	movl $__bss_start, %edi;          \
	movl $__bss_end, %ecx;            \
	subl %edi, %ecx;                  \
	xorl %eax, %eax;                  \
	xorl %ebp, %ebp;                  \
	repe scasb;                       \
	setne %al;                        \
	movl %eax, %ebp;                  \
	movl $__bss_start, %edi;          \
	movl $__bss_end, %ecx;            \
	subl %edi, %ecx;                  \
	xorl %eax, %eax;                  \
	rep stosb

#endif
