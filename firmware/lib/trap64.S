/* Exception stubs for 64-bit guests and the fault-tolerant MSR accessors. */

/* Vectors whose exceptions push an error code (SDM vol. 3 table 6-1). */
#define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

	.text
	.code64
	.balign 16
trap_stub_base:
	.set vec, 0
	.rept 32
	.balign 16
	.if (HAS_ERR(vec)) == 0
	pushq $0                   /* uniform frame: a fake error code */
	.endif
	pushq $vec
	jmp trap_common
	.set vec, vec + 1
	.endr

trap_common:
	pushq %rax
	pushq %rcx
	pushq %rdx
	pushq %rbx
	pushq %rbp
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	call trap_handle           /* the CPU aligned RSP to 16 and we pushed 22 words */
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rbp
	popq %rbx
	popq %rdx
	popq %rcx
	popq %rax
	addq $16, %rsp             /* vector and error code */
	iretq

/* int trap_rdmsr_safe(uint32_t msr, uint64_t *value): -1, or the vector raised. */
	.globl trap_rdmsr_safe
trap_rdmsr_safe:
	movl $-1, trap_fault_vector(%rip)
	leaq 1f(%rip), %rax
	movq %rax, trap_resume_ip(%rip)
	movl %edi, %ecx
	rdmsr
	movl %eax, (%rsi)
	movl %edx, 4(%rsi)
1:	movq $0, trap_resume_ip(%rip)
	movl trap_fault_vector(%rip), %eax
	ret

/* int trap_wrmsr_safe(uint32_t msr, uint64_t value): -1, or the vector raised. */
	.globl trap_wrmsr_safe
trap_wrmsr_safe:
	movl $-1, trap_fault_vector(%rip)
	leaq 1f(%rip), %rax
	movq %rax, trap_resume_ip(%rip)
	movl %edi, %ecx
	movl %esi, %eax
	movq %rsi, %rdx
	shrq $32, %rdx
	wrmsr
1:	movq $0, trap_resume_ip(%rip)
	movl trap_fault_vector(%rip), %eax
	ret

/* int trap_ud2_safe(void): the vector UD2 raised, or -1 if it did not fault. */
	.globl trap_ud2_safe
trap_ud2_safe:
	movl $-1, trap_fault_vector(%rip)
	leaq 1f(%rip), %rax
	movq %rax, trap_resume_ip(%rip)
	ud2
1:	movq $0, trap_resume_ip(%rip)
	movl trap_fault_vector(%rip), %eax
	ret

	.section .rodata
	.balign 8
	.globl trap_stubs
trap_stubs:
	.set vec, 0
	.rept 32
	.quad trap_stub_base + vec * 16
	.set vec, vec + 1
	.endr

	.section .bss
	.balign 8
	.globl trap_resume_ip, trap_fault_vector
trap_resume_ip: .skip 8
trap_fault_vector: .skip 4
