/* Interrupt entry stubs for all 256 vectors and the common save/dispatch/restore path. */

/* Vectors for which the CPU pushes an error code: #DF, #TS, #NP, #SS, #GP, #PF, #AC,
 * #CP, #VC, #SX. The others get a zero pushed so every frame has the same shape. */
#define HAS_ERROR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || \
                      (v) == 29 || (v) == 30)

    .text
    .code64
    .balign 16
    .global isr_stubs
isr_stubs:
    .set vec, 0
    .rept 256
1:  .if HAS_ERROR(vec)
    .else
    pushq $0
    .endif
    pushq $vec
    jmp isr_common
    .org 1b + 16, 0xCC          /* fixed 16-byte stubs (fails to assemble if one grows) */
    .set vec, vec + 1
    .endr

/*
 * Every gate uses an IST stack (cpu.c), so we are on a known stack, never the
 * interrupted one: musl and libgcc use the red zone below RSP, which an interrupt
 * pushing onto the same stack would destroy. The CPU aligned RSP to 16 before pushing
 * its frame; 2 + 15 pushes keep that alignment.
 *
 * The interrupted code may be in the middle of SSE/AVX work and the C handlers use SSE
 * too, so the extended state is saved below the frame, 64-byte aligned as XSAVE needs.
 */
isr_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rbx
    sub trap_fpu_area_size(%rip), %rsp
    and $-64, %rsp
    cmpb $0, trap_use_xsave(%rip)
    je 1f
    /* XSAVE writes only XSTATE_BV in the 64-byte header at offset 512, but XRSTOR
     * faults unless XCOMP_BV and the reserved bytes are zero: clear them first. */
    xor %eax, %eax
    mov %rax, 520(%rsp)
    mov %rax, 528(%rsp)
    mov %rax, 536(%rsp)
    mov %rax, 544(%rsp)
    mov %rax, 552(%rsp)
    mov %rax, 560(%rsp)
    mov %rax, 568(%rsp)
    mov $-1, %eax
    mov $-1, %edx
    xsave64 (%rsp)
    jmp 2f
1:  fxsave64 (%rsp)
2:  cld
    mov %rbx, %rdi
    call trap_dispatch
    cmpb $0, trap_use_xsave(%rip)
    je 3f
    mov $-1, %eax
    mov $-1, %edx
    xrstor64 (%rsp)
    jmp 4f
3:  fxrstor64 (%rsp)
4:  mov %rbx, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp               /* vector and error code */
    iretq

    .section .note.GNU-stack, "", @progbits
