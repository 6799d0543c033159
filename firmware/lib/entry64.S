/* PVH entry for 64-bit guests: 32-bit protected mode in, long mode with identity map out. */
#include "entry.h"

#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define PTE_P_RW 0x003
#define PDE_P_RW_PS 0x083     /* present, writable, 2 MiB page */
#define NR_PD_ENTRIES 2048    /* 4 PDs x 512 x 2 MiB = the first 4 GiB */

	.section .text.entry, "ax"
	.code32
	.globl pvh_entry
/*
 * PVH machine state (xen docs/misc/pvh.pandoc): EBX = physical address of
 * hvm_start_info, CR0.PE=1, paging off, flat 32-bit CS/DS/ES/SS, IF=0. The GDT,
 * stack and everything else are ours to set up; %esi carries EBX to guest_start.
 */
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

	/* One PML4 entry -> one PDPT with four entries -> four contiguous PDs of 2 MiB pages. */
	movl $pml4, %edi
	movl $(pdpt + PTE_P_RW), (%edi)
	movl $pdpt, %edi
	movl $(pd + PTE_P_RW), %eax
	xorl %ecx, %ecx
2:	movl %eax, (%edi, %ecx, 8)
	addl $4096, %eax
	incl %ecx
	cmpl $4, %ecx
	jb 2b
	movl $pd, %edi
	xorl %ecx, %ecx
3:	movl %ecx, %eax
	shll $21, %eax
	orl $PDE_P_RW_PS, %eax
	movl %eax, (%edi, %ecx, 8)
	incl %ecx
	cmpl $NR_PD_ENTRIES, %ecx
	jb 3b

	/* Long mode needs PAE, then EFER.LME, then CR0.PG (Intel SDM 9.8.5 / AMD APM 14.6). */
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $CR0_PG, %eax
	movl %eax, %cr0
	/* Paging is on but CS is still 32-bit (compatibility mode) until this far jump. */
	ljmp $0x18, $long_mode

	.code64
long_mode:
	movl %esi, %edi            /* guest_start(start_info physical address, */
	movl %ebp, %esi            /*             .bss was dirty) */
	call guest_start
4:	cli
	hlt
	jmp 4b

#include "gdt.inc"

	.section .bss
	.balign 4096
pml4:	.skip 4096
pdpt:	.skip 4096
pd:	.skip 4096 * 4
	.balign 16
stack:	.skip STACK_SIZE
stack_top:
