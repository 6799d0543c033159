/* Exception stubs for 32-bit guests and the fault-tolerant MSR accessors. */

/* Vectors whose exceptions push an error code (SDM vol. 3 table 6-1). */
#define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

	.text
	.code32
	.balign 16
trap_stub_base:
	.set vec, 0
	.rept 32
	.balign 16
	.if (HAS_ERR(vec)) == 0
	pushl $0                   /* uniform frame: a fake error code */
	.endif
	pushl $vec
	jmp trap_common
	.set vec, vec + 1
	.endr

trap_common:
	pushal
	pushl %esp                 /* trap_handle(struct trap_frame *) */
	call trap_handle
	addl $4, %esp
	popal
	addl $8, %esp              /* vector and error code */
	iretl

/* int trap_rdmsr_safe(uint32_t msr, uint64_t *value): -1, or the vector raised. */
	.globl trap_rdmsr_safe
trap_rdmsr_safe:
	movl $-1, trap_fault_vector
	movl $1f, trap_resume_ip
	movl 4(%esp), %ecx
	rdmsr
	movl 8(%esp), %ecx
	movl %eax, (%ecx)
	movl %edx, 4(%ecx)
1:	movl $0, trap_resume_ip
	movl trap_fault_vector, %eax
	ret

/* int trap_wrmsr_safe(uint32_t msr, uint64_t value): -1, or the vector raised. */
	.globl trap_wrmsr_safe
trap_wrmsr_safe:
	movl $-1, trap_fault_vector
	movl $1f, trap_resume_ip
	movl 4(%esp), %ecx
	movl 8(%esp), %eax
	movl 12(%esp), %edx
	wrmsr
1:	movl $0, trap_resume_ip
	movl trap_fault_vector, %eax
	ret

/* int trap_ud2_safe(void): the vector UD2 raised, or -1 if it did not fault. */
	.globl trap_ud2_safe
trap_ud2_safe:
	movl $-1, trap_fault_vector
	movl $1f, trap_resume_ip
	ud2
1:	movl $0, trap_resume_ip
	movl trap_fault_vector, %eax
	ret

	.section .rodata
	.balign 4
	.globl trap_stubs
trap_stubs:
	.set vec, 0
	.rept 32
	.long trap_stub_base + vec * 16
	.set vec, vec + 1
	.endr

	.section .bss
	.balign 4
	.globl trap_resume_ip, trap_fault_vector
trap_resume_ip: .skip 4
trap_fault_vector: .skip 4
