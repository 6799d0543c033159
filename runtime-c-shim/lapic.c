/* The local APIC: x2APIC through MSRs when the CPU has it, else xAPIC through MMIO. */
#include <stdint.h>
#include "cpu.h"
#include "klog.h"
#include "lapic.h"
#include "x86.h"

#define MSR_APIC_BASE 0x1B
#define APIC_BASE_EXTD (1ULL << 10) /* x2APIC mode */
#define APIC_BASE_EN (1ULL << 11)
#define MSR_X2APIC 0x800

#define REG_ID 0x020
#define REG_TPR 0x080
#define REG_EOI 0x0B0
#define REG_SVR 0x0F0
#define REG_ESR 0x280
#define REG_LVT_TIMER 0x320
#define REG_LVT_LINT0 0x350
#define REG_LVT_ERROR 0x370
#define REG_TIMER_INIT 0x380
#define REG_TIMER_CUR 0x390
#define REG_TIMER_DIV 0x3E0

#define SVR_ENABLE (1u << 8)
#define LVT_MASKED (1u << 16)
#define TIMER_DIV_1 0xB

static int x2apic;
static volatile uint32_t *mmio;

static uint32_t rd(uint32_t reg)
{
    if (x2apic)
        return (uint32_t)x86_rdmsr(MSR_X2APIC + (reg >> 4));
    return mmio[reg / 4];
}

static void wr(uint32_t reg, uint32_t v)
{
    if (x2apic)
        x86_wrmsr(MSR_X2APIC + (reg >> 4), v);
    else
        mmio[reg / 4] = v;
}

static void lapic_error_irq(uint8_t vector)
{
    (void)vector;
    wr(REG_ESR, 0); /* the ESR latches on a write, then reads back the errors */
    klog("lapic: error interrupt, ESR 0x%x\n", rd(REG_ESR));
    cpu_lapic_eoi();
}

void lapic_init(void)
{
    uint32_t r[4];
    cpu_cpuid(1, 0, r);
    if (!(r[3] & (1u << 9)))
        panic("lapic: this CPU has no local APIC");
    uint64_t base = x86_rdmsr(MSR_APIC_BASE);
    if (r[2] & (1u << 21)) {
        /* xAPIC -> x2APIC must go through enabled xAPIC mode first */
        x86_wrmsr(MSR_APIC_BASE, base | APIC_BASE_EN);
        x86_wrmsr(MSR_APIC_BASE, base | APIC_BASE_EN | APIC_BASE_EXTD);
        x2apic = 1;
    } else {
        x86_wrmsr(MSR_APIC_BASE, base | APIC_BASE_EN);
        mmio = (volatile uint32_t *)(uintptr_t)(base & 0x000FFFFFFFFFF000ULL);
    }
    wr(REG_TPR, 0);
    /* LINT0 would deliver the 8259's ExtINT (virtual-wire mode) into our vectors: mask
     * it, the PICs are masked and unused. LINT1 stays as firmware set it (NMI). */
    wr(REG_LVT_LINT0, LVT_MASKED);
    wr(REG_LVT_TIMER, LVT_MASKED | CPU_VEC_TIMER);
    wr(REG_TIMER_DIV, TIMER_DIV_1);
    wr(REG_TIMER_INIT, 0);
    cpu_set_irq_handler(CPU_VEC_LAPIC_ERROR, lapic_error_irq);
    wr(REG_LVT_ERROR, CPU_VEC_LAPIC_ERROR);
    wr(REG_ESR, 0);
    wr(REG_SVR, SVR_ENABLE | CPU_VEC_SPURIOUS);
}

int lapic_x2apic(void)
{
    return x2apic;
}

uint32_t lapic_id(void)
{
    return x2apic ? rd(REG_ID) : rd(REG_ID) >> 24;
}

void lapic_timer_start(uint32_t count, int masked)
{
    /* one-shot mode (LVT bits 17-18 = 0); writing the initial count starts it */
    wr(REG_LVT_TIMER, (masked ? LVT_MASKED : 0) | CPU_VEC_TIMER);
    wr(REG_TIMER_INIT, count);
}

uint32_t lapic_timer_current(void)
{
    return rd(REG_TIMER_CUR);
}

void cpu_lapic_eoi(void)
{
    if (x2apic || mmio)
        wr(REG_EOI, 0);
}
