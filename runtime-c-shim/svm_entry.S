/* The SVM world switch: host registers out, guest registers in, VMRUN, and back. */

/* Offsets into the guest GPR array (struct zz_vcpu_state.gpr, x86 order). */
#define G_RCX 8
#define G_RDX 16
#define G_RBX 24
#define G_RBP 40
#define G_RSI 48
#define G_RDI 56
#define G_R8  64
#define G_R9  72
#define G_R10 80
#define G_R11 88
#define G_R12 96
#define G_R13 104
#define G_R14 112
#define G_R15 120

/* Our frame after the pushes below: (%rsp) guest VMCB, 8 host save block, 16 gprs. */
#define F_VMCB 0
#define F_HOST 8
#define F_GPRS 16

    .text
    .code64

/*
 * void svm_world_switch(uint64_t *gprs, uint64_t vmcb_pa, uint64_t host_pa)
 *
 * Called with interrupts off, after the host's VMLOAD state was saved at host_pa
 * (svm_run_begin: once per run, since it does not change meanwhile). VMRUN/#VMEXIT switch only part of the state: RAX, RSP,
 * RIP, RFLAGS, CRs, EFER, segment registers CS/SS/DS/ES, GDTR/IDTR and DRs. The rest is
 * ours to move:
 * - GPRs other than RAX/RSP: loaded from gprs before VMRUN, stored back after it.
 * - FS, GS, TR, LDTR (with their hidden bases), KERNEL_GS_BASE, STAR/LSTAR/CSTAR/SFMASK
 *   and SYSENTER_*: VMLOAD/VMSAVE. The host's copy comes back from host_pa: the shim's
 *   FS base matters (musl reads its stack canary at %fs:0x28) and so does its TR
 *   (the IST stacks every interrupt gate uses live in the TSS).
 * GIF: CLGI holds off every interrupt, NMI included, from before the guest's TR and FS
 * are loaded until the host's are back, so no handler can run on guest state. Inside,
 * STI sets the host RFLAGS.IF that VMRUN saves: with V_INTR_MASKING, that IF decides
 * whether physical interrupts reach the CPU while the guest runs, and then they end
 * the guest with an INTR (or NMI) exit instead of being masked by the guest's IF.
 * After the exit, CLI then STGI: the pending interrupt waits until the run loop opens
 * a window on the host's own stack (sti; nop; cli).
 */
    .global svm_world_switch
    .type svm_world_switch, @function
svm_world_switch:
    push %rbp
    mov %rsp, %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    push %rdi
    push %rdx
    push %rsi

    clgi
    /* STI here, not right before VMRUN: TCG carries the STI interrupt shadow into the
     * guest (VMRUN ignores the VMCB's interrupt state), so the guest's first
     * instruction would look shadowed. With GIF=0 no interrupt gets in either way. */
    sti
    mov %rsi, %rax
    vmload %rax

    mov G_RCX(%rdi), %rcx
    mov G_RDX(%rdi), %rdx
    mov G_RBX(%rdi), %rbx
    mov G_RBP(%rdi), %rbp
    mov G_RSI(%rdi), %rsi
    mov G_R8(%rdi), %r8
    mov G_R9(%rdi), %r9
    mov G_R10(%rdi), %r10
    mov G_R11(%rdi), %r11
    mov G_R12(%rdi), %r12
    mov G_R13(%rdi), %r13
    mov G_R14(%rdi), %r14
    mov G_R15(%rdi), %r15
    mov G_RDI(%rdi), %rdi

    vmrun %rax

    /* #VMEXIT: RAX, RSP and RIP are the host's again, GIF is 0. */
    mov F_GPRS(%rsp), %rax
    mov %rcx, G_RCX(%rax)
    mov %rdx, G_RDX(%rax)
    mov %rbx, G_RBX(%rax)
    mov %rbp, G_RBP(%rax)
    mov %rsi, G_RSI(%rax)
    mov %rdi, G_RDI(%rax)
    mov %r8, G_R8(%rax)
    mov %r9, G_R9(%rax)
    mov %r10, G_R10(%rax)
    mov %r11, G_R11(%rax)
    mov %r12, G_R12(%rax)
    mov %r13, G_R13(%rax)
    mov %r14, G_R14(%rax)
    mov %r15, G_R15(%rax)

    mov F_VMCB(%rsp), %rax
    vmsave %rax
    mov F_HOST(%rsp), %rax
    vmload %rax
    cli
    stgi

    add $24, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret
    .size svm_world_switch, . - svm_world_switch

    .section .note.GNU-stack, "", @progbits
