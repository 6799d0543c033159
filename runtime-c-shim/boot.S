/* Multiboot1 + multiboot2 headers, the 32-bit entry, the switch to long mode, the stacks. */

#define MB1_MAGIC       0x1BADB002
#define MB1_FLAGS       0x00000003      /* page-align modules; give memory info */
#define MB2_MAGIC       0xE85250D6
#define MB2_ARCH_I386   0

#define CR0_PE          (1 << 0)
#define CR0_MP          (1 << 1)
#define CR0_EM          (1 << 2)
#define CR0_TS          (1 << 3)
#define CR0_WP          (1 << 16)
#define CR0_NW          (1 << 29)
#define CR0_CD          (1 << 30)
#define CR0_PG          (1 << 31)
#define CR4_PAE         (1 << 5)
#define CR4_OSFXSR      (1 << 9)
#define CR4_OSXMMEXCPT  (1 << 10)
#define MSR_EFER        0xC0000080
#define EFER_LME        (1 << 8)

#define PTE_P           0x001
#define PTE_RW          0x002
#define PTE_PS          0x080

#define MAIN_STACK_SIZE (4 * 1024 * 1024)
#define IST_STACK_SIZE  (16 * 1024)
#define IST_STACKS      5

/* ---------------------------------------------------------------------------------
 * Headers. The linker script puts .multiboot first in the image, so both land in the
 * file's first page: multiboot1 wants its header 4-aligned in the first 8 KiB,
 * multiboot2 8-aligned in the first 32 KiB. Both loaders then use the ELF program
 * headers to load us at 1 MiB.
 * ------------------------------------------------------------------------------ */
    .section .multiboot, "a"
    .balign 4
mb1_header:
    .long MB1_MAGIC
    .long MB1_FLAGS
    .long -(MB1_MAGIC + MB1_FLAGS)

    .balign 8
mb2_header:
    .long MB2_MAGIC
    .long MB2_ARCH_I386
    .long mb2_header_end - mb2_header
    .long -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
    /* Console flags tag: EGA text is supported (so GRUB on BIOS keeps text mode), a
     * console is not required. No framebuffer tag: we take what the firmware set. */
    .balign 8
    .short 4, 0
    .long 12
    .long 2
    /* Module alignment tag: modules start on page boundaries, like multiboot1 flag 0. */
    .balign 8
    .short 6, 0
    .long 8
    /* End tag. No EFI boot-services tag: GRUB exits boot services and enters in 32-bit
     * protected mode, as under BIOS. */
    .balign 8
    .short 0, 0
    .long 8
mb2_header_end:

/* ---------------------------------------------------------------------------------
 * 32-bit entry. Both loaders enter here in flat 32-bit protected mode, paging off,
 * interrupts off, with EAX = loader magic and EBX = physical address of the info block.
 * ------------------------------------------------------------------------------ */
    .section .text.boot, "ax"
    .code32
    .global _start
_start:
    cli
    cld
    /* Keep the loader's magic and info pointer away from CPUID, which clobbers EBX. */
    mov %eax, %ebp
    mov %ebx, %esi
    /* The first TSC reading: monotonic time 0 is the moment the shim got control. */
    rdtsc
    mov %eax, boot_tsc
    mov %edx, boot_tsc + 4
    mov $__stack_top, %esp

    /* Long mode must exist; otherwise say so on COM1 and the VGA screen and stop. */
    mov $0x80000000, %eax
    cpuid
    cmp $0x80000001, %eax
    jb no_long_mode
    mov $0x80000001, %eax
    cpuid
    bt $29, %edx
    jnc no_long_mode

    /* Zero .bss (the page tables below live there). The stacks are outside it. */
    mov $__bss_start, %edi
    mov $__bss_end, %ecx
    sub %edi, %ecx
    shr $2, %ecx
    xor %eax, %eax
    rep stosl

    /* Identity-map the first 4 GiB with 2 MiB pages: PML4[0] -> PDPT, PDPT[0..3] ->
     * four page directories. mm_init adds RAM above 4 GiB and the stack guard later. */
    mov $boot_pdpt, %eax
    or $(PTE_P | PTE_RW), %eax
    mov %eax, boot_pml4
    mov $boot_pd, %eax
    or $(PTE_P | PTE_RW), %eax
    xor %ecx, %ecx
1:  mov %eax, boot_pdpt(, %ecx, 8)
    add $4096, %eax
    inc %ecx
    cmp $4, %ecx
    jb 1b
    mov $(PTE_P | PTE_RW | PTE_PS), %eax
    xor %ecx, %ecx
2:  mov %eax, boot_pd(, %ecx, 8)
    add $0x200000, %eax
    inc %ecx
    cmp $2048, %ecx
    jb 2b

    mov $boot_pml4, %eax
    mov %eax, %cr3
    /* PAE for long mode; OSFXSR/OSXMMEXCPT because gcc, musl and QuickJS use SSE. */
    mov %cr4, %eax
    or $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
    mov %eax, %cr4
    mov $MSR_EFER, %ecx
    rdmsr
    or $EFER_LME, %eax
    wrmsr
    /* Paging on (activates long mode); FPU present and native (MP, no EM, no TS);
     * caches on (CD/NW clear: some firmware leaves them set). */
    mov %cr0, %eax
    and $~(CR0_EM | CR0_TS | CR0_CD | CR0_NW), %eax
    or $(CR0_PE | CR0_MP | CR0_WP | CR0_PG), %eax
    mov %eax, %cr0

    lgdt boot_gdt_ptr
    ljmp $0x08, $long_mode

    /* Prints "zazen: this CPU has no 64-bit long mode" and halts, from 32-bit code. */
no_long_mode:
    mov $no_lm_msg, %esi
    mov $0xB8000, %edi
3:  movzbl (%esi), %eax
    test %eax, %eax
    jz 5f
    mov $0x3FD, %dx
4:  in %dx, %al
    test $0x20, %al
    jz 4b
    movzbl (%esi), %eax
    mov $0x3F8, %dx
    out %al, %dx
    or $0x0700, %eax
    mov %ax, (%edi)
    add $2, %edi
    inc %esi
    jmp 3b
5:  cli
    hlt
    jmp 5b

    .code64
long_mode:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    xor %eax, %eax
    mov %eax, %fs
    mov %eax, %gs
    mov $__stack_top, %rsp
    mov %ebp, %edi              /* kmain(magic, info), both zero-extended: the upper */
    mov %esi, %esi              /* halves are undefined after the switch to 64-bit mode */
    xor %ebp, %ebp              /* ends the frame-pointer chain for backtraces */
    call kmain
6:  cli
    hlt
    jmp 6b

    .section .rodata
no_lm_msg:
    .asciz "zazen: this CPU has no 64-bit long mode\r\n"

    /* The boot GDT: null, 64-bit code (0x08), data (0x10). cpu_init replaces it with
     * one that also holds the TSS, keeping the same selectors. */
    .balign 16
boot_gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF
    .quad 0x00CF92000000FFFF
boot_gdt_end:
boot_gdt_ptr:
    .short boot_gdt_end - boot_gdt - 1
    .long boot_gdt

    .section .data
    .balign 8
    .global boot_tsc
boot_tsc:
    .quad 0

/* The boot page tables, also used (and extended) by mm.c. */
    .section .bss
    .balign 4096
    .global boot_pml4, boot_pdpt, boot_pd
boot_pml4:
    .skip 4096
boot_pdpt:
    .skip 4096
boot_pd:
    .skip 4 * 4096

/* ---------------------------------------------------------------------------------
 * Stacks, in the NOBITS .stack section at the end of the image: a guard page that
 * mm_init unmaps (an overflow then faults cleanly into the #PF report instead of
 * corrupting .bss), the 4 MiB main stack the JS engine runs on, and one 16 KiB stack
 * per IST slot (cpu.c). Not zeroed: nothing reads a stack before writing it.
 * ------------------------------------------------------------------------------ */
    .section .stack, "aw", @nobits
    .balign 4096
    .global __stack_guard, __stack_bottom, __stack_top, ist_stacks, ist_stacks_end
__stack_guard:
    .skip 4096
__stack_bottom:
    .skip MAIN_STACK_SIZE
__stack_top:
ist_stacks:
    .skip IST_STACKS * IST_STACK_SIZE
ist_stacks_end:

    .section .note.GNU-stack, "", @progbits
