/* CPU bring-up (GDT, TSS, IDT, FPU/SSE/AVX state, FS base) and privileged helpers. */
#include <stdint.h>
#include <string.h>
#include "cpu.h"
#include "trap.h"
#include "x86.h"

#define SEL_CODE 0x08
#define SEL_DATA 0x10
#define SEL_TSS  0x18

#define MSR_FS_BASE 0xC0000100
#define CR4_OSXSAVE (1ULL << 18)
#define XCR0_X87 1ULL
#define XCR0_SSE 2ULL
#define XCR0_AVX 4ULL

/* IST slots (1-based, as in the gate descriptor). Each kind of event that can nest in
 * another gets its own stack, so a nested entry never overwrites a live frame:
 * exceptions can hit IRQ handlers, #DF can hit exception handlers, and NMI or #MC can
 * hit anything. Interrupt gates keep IRQs from nesting on IST_IRQ. */
enum { IST_IRQ = 1, IST_EXC = 2, IST_DF = 3, IST_NMI = 4, IST_MC = 5, IST_COUNT = 5 };
#define IST_STACK_SIZE (16 * 1024)

extern char ist_stacks[], ist_stacks_end[];

struct tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iopb;
} __attribute__((packed));

struct idt_gate {
    uint16_t offset_lo, selector;
    uint8_t ist, type;
    uint16_t offset_mid;
    uint32_t offset_hi, reserved;
} __attribute__((packed));

struct table_ptr {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

static uint64_t gdt[5] __attribute__((aligned(16)));
static struct tss tss __attribute__((aligned(16)));
static struct idt_gate idt[256] __attribute__((aligned(16)));

/* The thread block FS points at. musl (built with stack protection) reads its canary at
 * %fs:0x28, and the x86-64 TLS ABI makes %fs:0 point to the block itself. */
static uint64_t tls_block[64] __attribute__((aligned(64)));

uint64_t trap_fpu_area_size = 512;
uint8_t trap_use_xsave;

static void gdt_load(void)
{
    uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;

    gdt[0] = 0;
    gdt[1] = 0x00AF9A000000FFFFULL; /* 64-bit code, DPL 0 */
    gdt[2] = 0x00CF92000000FFFFULL; /* data */
    gdt[3] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x89ULL << 40) |
             ((limit >> 16 & 0xF) << 48) | ((base >> 24 & 0xFF) << 56);
    gdt[4] = base >> 32;

    struct table_ptr p = { sizeof(gdt) - 1, (uint64_t)gdt };
    __asm__ volatile("lgdt %0\n\t"
                     "pushq %1\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:\n\t"
                     "mov %2, %%ds\n\t"
                     "mov %2, %%es\n\t"
                     "mov %2, %%ss\n\t"
                     "ltr %w3"
                     : : "m"(p), "i"(SEL_CODE), "r"(SEL_DATA), "r"(SEL_TSS) : "rax", "memory");
}

static void tss_init(void)
{
    memset(&tss, 0, sizeof(tss));
    for (int i = 0; i < IST_COUNT; i++)
        tss.ist[i] = (uint64_t)ist_stacks + (uint64_t)(i + 1) * IST_STACK_SIZE;
    tss.rsp[0] = tss.ist[IST_EXC - 1];
    tss.iopb = sizeof(tss); /* no I/O bitmap */
}

static void idt_init(void)
{
    for (int v = 0; v < 256; v++) {
        uint64_t addr = (uint64_t)isr_stubs + (uint64_t)v * ISR_STUB_SIZE;
        uint8_t ist = v >= 32 ? IST_IRQ : v == 8 ? IST_DF : v == 2 ? IST_NMI : v == 18 ? IST_MC : IST_EXC;
        idt[v] = (struct idt_gate){
            .offset_lo = addr & 0xFFFF,
            .selector = SEL_CODE,
            .ist = ist,
            .type = 0x8E, /* present, DPL 0, 64-bit interrupt gate (IF cleared on entry) */
            .offset_mid = addr >> 16 & 0xFFFF,
            .offset_hi = addr >> 32,
        };
    }
    struct table_ptr p = { sizeof(idt) - 1, (uint64_t)idt };
    __asm__ volatile("lidt %0" : : "m"(p));
}

/* Enables XSAVE with x87|SSE|AVX when the CPU has it, and sizes the per-trap save area. */
static void fpu_init(void)
{
    uint32_t r[4];
    uint16_t fcw = 0x037F;
    uint32_t mxcsr = 0x1F80;

    __asm__ volatile("fninit; fldcw %0; ldmxcsr %1" : : "m"(fcw), "m"(mxcsr));
    cpu_cpuid(1, 0, r);
    if (!(r[2] & (1u << 26)))
        return; /* FXSAVE only: boot.S already enabled SSE (CR4.OSFXSR) */
    int avx = (r[2] >> 28) & 1;
    x86_write_cr4(x86_read_cr4() | CR4_OSXSAVE);
    cpu_cpuid(0xD, 0, r);
    uint64_t xcr0 = XCR0_X87 | XCR0_SSE;
    if (avx && (r[0] & XCR0_AVX))
        xcr0 |= XCR0_AVX;
    __asm__ volatile("xsetbv" : : "c"(0), "a"((uint32_t)xcr0), "d"((uint32_t)(xcr0 >> 32)));
    cpu_cpuid(0xD, 0, r); /* EBX: save-area size for the features now enabled in XCR0 */
    trap_fpu_area_size = r[1];
    trap_use_xsave = 1;
}

void cpu_restore_fs_base(void)
{
    tls_block[0] = (uint64_t)tls_block;
    x86_wrmsr(MSR_FS_BASE, (uint64_t)tls_block);
}

void cpu_init(void)
{
    cpu_restore_fs_base();
    tss_init();
    gdt_load();
    idt_init();
    fpu_init();
}

/* Both MSR helpers list the RDMSR/WRMSR in .ex_table: a #GP there resumes at label 2
 * with err still -1 (trap.c), instead of being fatal. */
int cpu_rdmsr_safe(uint32_t msr, uint64_t *value)
{
    uint32_t lo, hi;
    int err;
    __asm__ volatile("1: rdmsr\n\t"
                     "xorl %0, %0\n"
                     "2:\n\t"
                     ".pushsection .ex_table, \"a\"\n\t"
                     ".balign 8\n\t"
                     ".quad 1b, 2b\n\t"
                     ".popsection"
                     : "=r"(err), "=a"(lo), "=d"(hi)
                     : "c"(msr), "0"(-1));
    if (err)
        return -1;
    *value = ((uint64_t)hi << 32) | lo;
    return 0;
}

int cpu_wrmsr_safe(uint32_t msr, uint64_t value)
{
    int err;
    __asm__ volatile("1: wrmsr\n\t"
                     "xorl %0, %0\n"
                     "2:\n\t"
                     ".pushsection .ex_table, \"a\"\n\t"
                     ".balign 8\n\t"
                     ".quad 1b, 2b\n\t"
                     ".popsection"
                     : "=r"(err)
                     : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)), "0"(-1)
                     : "memory");
    return err ? -1 : 0;
}

void cpu_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
    __asm__ volatile("cpuid"
                     : "=a"(out[0]), "=b"(out[1]), "=c"(out[2]), "=d"(out[3])
                     : "a"(leaf), "c"(subleaf));
}

uint32_t cpu_port_in(uint16_t port, int size)
{
    uint32_t v;
    switch (size) {
    case 1: v = x86_inb(port); break;
    case 2: { uint16_t w; __asm__ volatile("inw %1, %0" : "=a"(w) : "Nd"(port)); v = w; break; }
    case 4: __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); break;
    default: v = 0xFFFFFFFFu; break; /* bad size: no access, all ones like a floating bus */
    }
    return v;
}

void cpu_port_out(uint16_t port, int size, uint32_t value)
{
    switch (size) {
    case 1: x86_outb(port, (uint8_t)value); break;
    case 2: __asm__ volatile("outw %0, %1" : : "a"((uint16_t)value), "Nd"(port)); break;
    case 4: __asm__ volatile("outl %0, %1" : : "a"(value), "Nd"(port)); break;
    default: break; /* bad size: ignored */
    }
}

void cpu_reboot(void)
{
    __asm__ volatile("cli");
    /* The 8042's output port drives the CPU reset line: command 0xFE pulses it. Wait
     * (bounded: UEFI-only machines may have no controller) for its input buffer. */
    for (int i = 0; i < 100000 && (x86_inb(0x64) & 0x02); i++)
        x86_pause();
    x86_outb(0x64, 0xFE);
    for (int i = 0; i < 1000000; i++)
        x86_pause();
    /* Triple fault: with an empty IDT the breakpoint cannot be delivered, nor the #GP,
     * nor the #DF, and the CPU shuts down, which resets a PC. */
    struct table_ptr empty = { 0, 0 };
    __asm__ volatile("lidt %0; int3" : : "m"(empty));
    x86_halt_forever();
}
