/* Time: TSC and LAPIC timer calibrated against the PIT, the RTC wall clock, idle waits. */
#include <stdint.h>
#include "console.h"
#include "cpu.h"
#include "klog.h"
#include "lapic.h"
#include "timer.h"
#include "trap.h"
#include "x86.h"

#define PIT_HZ 1193182ULL
#define CALIBRATE_MS 2
#define CALIBRATE_RUNS 3
#define NS_PER_S 1000000000ULL

extern uint64_t boot_tsc; /* boot.S: the TSC when the shim got control */

static uint64_t tsc_hz, lapic_hz;
static uint64_t ns_per_tsc;    /* ns per TSC tick, << 32 */
static uint64_t ticks_per_ns;  /* LAPIC ticks per ns, << 32 */
static uint64_t rtc_epoch_ms, rtc_read_ns;
static volatile uint64_t timer_irqs;

/*
 * Measures TSC and LAPIC-timer ticks over one window of PIT channel 2 (the speaker
 * channel, whose output is readable in port 0x61 bit 5). Mode 0 raises OUT when the
 * count runs out. The gate goes on before the count is written: real 8254s count only
 * with the gate high, while QEMU ignores the gate in mode 0 and counts from the write;
 * this way both start at the count's second byte. Returns 0 if OUT never rises.
 */
static int pit_window(uint16_t count, uint64_t *tsc_ticks, uint32_t *lapic_ticks)
{
    x86_outb(0x61, (x86_inb(0x61) & ~0x02) | 0x01); /* gate on, speaker off */
    x86_outb(0x43, 0xB0);                            /* channel 2, lo/hi byte, mode 0 */
    x86_outb(0x42, count & 0xFF);
    lapic_timer_start(0xFFFFFFFFu, 1);
    x86_outb(0x42, count >> 8);
    uint64_t t0 = x86_rdtsc(), t1;
    uint32_t l0 = lapic_timer_current();
    /* bounded: a board without a PIT (or its gate) must not hang the boot */
    while (!(x86_inb(0x61) & 0x20)) {
        t1 = x86_rdtsc();
        if (t1 - t0 > 50000000000ULL)
            return 0;
    }
    t1 = x86_rdtsc();
    *lapic_ticks = l0 - lapic_timer_current();
    *tsc_ticks = t1 - t0;
    lapic_timer_start(0, 1);
    return 1;
}

/*
 * Takes the shortest of CALIBRATE_RUNS windows: delays (an SMI, or under emulation the
 * host descheduling the virtual CPU right as the count expires) only ever lengthen a
 * window. 3 x 2 ms keeps boot short (QEMU's -icount turns it into 6 M instructions) at
 * ~0.04% error from the one-PIT-tick start jitter.
 */
static int calibrate(void)
{
    uint16_t count = (uint16_t)(PIT_HZ * CALIBRATE_MS / 1000);
    uint64_t best_tsc = UINT64_MAX, tsc;
    uint32_t best_lapic = 0, lapic;
    for (int i = 0; i < CALIBRATE_RUNS; i++) {
        if (!pit_window(count, &tsc, &lapic))
            return 0;
        if (tsc < best_tsc) {
            best_tsc = tsc;
            best_lapic = lapic;
        }
    }
    tsc_hz = (uint64_t)((unsigned __int128)best_tsc * PIT_HZ / count);
    lapic_hz = (uint64_t)((unsigned __int128)best_lapic * PIT_HZ / count);
    return tsc_hz > 0;
}

static uint8_t cmos(uint8_t reg)
{
    x86_outb(0x70, reg);
    return x86_inb(0x71);
}

static uint32_t from_bcd(uint8_t v)
{
    return (v >> 4) * 10u + (v & 15);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (years counted from March, so the
 * leap day ends each "year"). */
static int64_t days_from_civil(int64_t y, uint32_t m, uint32_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    uint32_t yoe = (uint32_t)(y - era * 400);
    uint32_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    uint32_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* Reads the CMOS clock (UTC by convention on servers) once, between updates. */
static void read_rtc(void)
{
    uint8_t now[7], again[7];
    static const uint8_t regs[7] = { 0x00, 0x02, 0x04, 0x07, 0x08, 0x09, 0x32 };
    for (int tries = 0; tries < 5; tries++) {
        /* wait (bounded) for update-in-progress to clear, then read twice: equal
         * readings cannot straddle an update */
        for (int i = 0; i < 100000 && (cmos(0x0A) & 0x80); i++)
            x86_pause();
        for (int i = 0; i < 7; i++)
            now[i] = cmos(regs[i]);
        for (int i = 0; i < 7; i++)
            again[i] = cmos(regs[i]);
        int same = 1;
        for (int i = 0; i < 7; i++)
            same &= now[i] == again[i];
        if (same)
            break;
    }
    uint8_t b = cmos(0x0B);
    int pm = now[2] & 0x80;
    uint32_t v[7];
    now[2] &= 0x7F;
    for (int i = 0; i < 7; i++)
        v[i] = (b & 0x04) ? now[i] : from_bcd(now[i]); /* status B bit 2: binary */
    if (!(b & 0x02)) /* status B bit 1 clear: 12-hour clock, bit 7 of hours = PM */
        v[2] = v[2] % 12 + (pm ? 12 : 0);
    uint32_t year = (v[6] >= 19 && v[6] <= 21 ? v[6] : 20) * 100 + v[5];
    rtc_read_ns = timer_monotonic_ns();
    if (v[0] > 59 || v[1] > 59 || v[2] > 23 || v[3] < 1 || v[3] > 31 || v[4] < 1 || v[4] > 12 ||
        v[5] > 99) {
        klog("timer: RTC reads nonsense (%02x:%02x:%02x %02x/%02x/%02x); wall clock starts at 1970\n",
             now[2], now[1], now[0], now[3], now[4], now[5]);
        rtc_epoch_ms = 0;
        return;
    }
    int64_t days = days_from_civil(year, v[4], v[3]);
    rtc_epoch_ms = (uint64_t)(days * 86400 + v[2] * 3600 + v[1] * 60 + v[0]) * 1000;
    klog("timer: RTC %04u-%02u-%02u %02u:%02u:%02u UTC\n", year, v[4], v[3], v[2], v[1], v[0]);
}

static void timer_irq(uint8_t vector)
{
    (void)vector;
    timer_irqs++;
    cpu_lapic_eoi();
}

void timer_init(void)
{
    lapic_init();
    if (!calibrate()) {
        klog("timer: PIT calibration failed; assuming a 1 GHz TSC and no LAPIC timer\n");
        tsc_hz = NS_PER_S;
        lapic_hz = 0;
    }
    ns_per_tsc = (uint64_t)((NS_PER_S << 32) / tsc_hz);
    ticks_per_ns = (uint64_t)(((unsigned __int128)lapic_hz << 32) / NS_PER_S);
    cpu_set_irq_handler(CPU_VEC_TIMER, timer_irq);
    klog("timer: TSC %llu.%03llu MHz, LAPIC timer %llu.%03llu MHz (%s), PIT-calibrated (best of %d x %d ms)\n",
         (unsigned long long)(tsc_hz / 1000000), (unsigned long long)(tsc_hz / 1000 % 1000),
         (unsigned long long)(lapic_hz / 1000000), (unsigned long long)(lapic_hz / 1000 % 1000),
         lapic_x2apic() ? "x2APIC" : "xAPIC", CALIBRATE_RUNS, CALIBRATE_MS);
    read_rtc();
}

uint64_t timer_tsc_hz(void)
{
    return tsc_hz;
}

uint64_t timer_monotonic_ns(void)
{
    if (!ns_per_tsc)
        return 0;
    return (uint64_t)(((unsigned __int128)(x86_rdtsc() - boot_tsc) * ns_per_tsc) >> 32);
}

uint64_t timer_wall_ms(void)
{
    return rtc_epoch_ms + (timer_monotonic_ns() - rtc_read_ns) / 1000000;
}

int timer_x2apic(void)
{
    return lapic_x2apic();
}

/* Arms the one-shot LAPIC timer for ns from now (clamped to its 32-bit counter: a
 * longer wait simply wakes early and re-arms). */
static void arm(uint64_t ns)
{
    uint64_t ticks = (uint64_t)(((unsigned __int128)ns * ticks_per_ns) >> 32);
    lapic_timer_start(ticks == 0 ? 1 : ticks > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)ticks, 0);
}

void timer_set_deadline(uint64_t deadline_ns)
{
    if (deadline_ns == UINT64_MAX || !lapic_hz) {
        lapic_timer_start(0, 1);
        return;
    }
    uint64_t now = timer_monotonic_ns();
    arm(deadline_ns > now ? deadline_ns - now : 0);
}

void timer_wait_until(uint64_t deadline_ns)
{
    uint64_t flags = x86_irq_save();
    int flushed = 0;
    for (;;) {
        /* Checked with interrupts off: anything arriving from here on stays pending
         * and ends the HLT below, so no wake-up is lost. */
        if (console_input_pending())
            break;
        uint64_t now = timer_monotonic_ns();
        if (deadline_ns != UINT64_MAX && now >= deadline_ns)
            break;
        if (!flushed) {
            /* about to idle: a good moment to bring the screen up to date */
            console_flush();
            flushed = 1;
            continue; /* drawing took time: look at the clock and the input again */
        }
        uint64_t others = trap_irq_total - timer_irqs;
        if (deadline_ns != UINT64_MAX && lapic_hz) {
            arm(deadline_ns - now);
        } else if (deadline_ns != UINT64_MAX) {
            /* no LAPIC timer: poll the clock with interrupts open */
            __asm__ volatile("sti; pause; cli" : : : "memory");
            if (trap_irq_total - timer_irqs != others)
                break;
            continue;
        }
        /* STI's one-instruction shadow makes "enable interrupts and halt" atomic */
        __asm__ volatile("sti; hlt; cli" : : : "memory");
        lapic_timer_start(0, 1);
        if (trap_irq_total - timer_irqs != others)
            break; /* some other interrupt: let the caller look */
    }
    x86_irq_restore(flags);
}
