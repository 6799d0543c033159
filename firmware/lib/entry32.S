/* PVH entry for 32-bit guests: stays in flat protected mode with paging off. */
#include "entry.h"

	.section .text.entry, "ax"
	.code32
	.globl pvh_entry
/* Same entry state as entry64.S: EBX = hvm_start_info physical address, flat segments. */
pvh_entry:
	cli
	cld
	movl %ebx, %esi
	lgdt gdt_desc
	ljmp $0x08, $1f
1:	movl $0x10, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	ZERO_BSS
	movl $stack_top, %esp
	pushl %ebp                 /* guest_start(start_info physical address, */
	pushl %esi                 /*             .bss was dirty), cdecl */
	call guest_start
2:	cli
	hlt
	jmp 2b

#include "gdt.inc"

	.section .bss
	.balign 16
stack:	.skip STACK_SIZE
stack_top:
