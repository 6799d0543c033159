/* Channel 2 of a virtual i8254 PIT and port 0x61, for guests that time loops with it.
 *
 * Why it exists: Linux calibrates the CPU clock early (quick_pit_calibrate) by polling
 * channel 2's counter through port 0x42 until its high byte changes. With no timer there
 * the port floats at 0xFF, which is exactly the value it waits to leave, so it polls
 * 50,000 times (100,000 port reads, each a VM exit) before giving up; under QEMU's TCG
 * those exits cost seconds. A counting channel 2 lets the loop see the counter move and
 * end within its 50 ms budget. Channels 0 and 1 stay absent (their ports read all-ones),
 * so nothing takes interrupts from this model: it is a clock the guest can read, nothing
 * more. Counting follows the host TSC, so it runs in real time.
 */
#include "pit.h"
#include "timer.h"
#include "x86.h"

#define PIT_HZ 1193182ull
/* Port 0x61 bit 4 toggles with every DRAM refresh request, every 15.085 us on a PC/AT;
 * old delay loops count its edges. */
#define REFRESH_PERIOD_NS 15085ull

void pit_reset(struct pit2 *p, int enabled)
{
    *p = (struct pit2){ 0 };
    p->enabled = (uint8_t)(enabled != 0);
    p->rw = 3;
    p->reload = 0x10000;
}

static uint64_t tsc_to_ticks(uint64_t tsc_delta)
{
    uint64_t hz = timer_tsc_hz();
    return hz ? (uint64_t)((unsigned __int128)tsc_delta * PIT_HZ / hz) : 0;
}

/* Ticks counted since the count was loaded (paused while the gate is low). */
static uint64_t elapsed(const struct pit2 *p)
{
    if (!p->armed)
        return 0;
    if (!(p->port61 & 1))
        return p->frozen;
    return p->frozen + tsc_to_ticks(x86_rdtsc() - p->start_tsc);
}

/* The counter's value now: 16 bits, 0 standing for 65536. */
static uint16_t current(const struct pit2 *p)
{
    uint64_t t = elapsed(p), n = p->reload;
    if (!p->armed)
        return (uint16_t)n;
    switch (p->mode) {
    case 2: /* rate generator: n, n-1, ..., 1, reload */
        return (uint16_t)(n - t % n);
    case 3: /* square wave: counts down by two, twice per period */
        return (uint16_t)((n - 2 * (t % ((n + 1) / 2))) & ~1ull);
    default: /* modes 0, 1, 4, 5: one pass down, then it wraps and keeps counting */
        return (uint16_t)(n - t);
    }
}

/* The OUT2 line (port 0x61 bit 5, and bit 7 of the status byte). */
static int out2(const struct pit2 *p)
{
    uint64_t t = elapsed(p), n = p->reload;
    switch (p->mode) {
    case 0: /* low from the control word until terminal count */
        return p->armed && t >= n;
    case 1: /* low from the trigger until terminal count */
        return !p->armed || t >= n;
    case 2:
        return !p->armed || t % n != n - 1;
    case 3:
        return !p->armed || t % n < (n + 1) / 2;
    default: /* 4, 5: a one-tick low pulse at terminal count */
        return !p->armed || t != n;
    }
}

/* Starts counting from reload now (a load, or a gate trigger in modes 1, 2, 3, 5). */
static void arm(struct pit2 *p)
{
    p->armed = 1;
    p->null_count = 0;
    p->frozen = 0;
    p->start_tsc = x86_rdtsc();
}

static void load(struct pit2 *p, uint32_t count)
{
    p->reload = count ? count : 0x10000;
    p->null_count = 1;
    /* Modes 1 and 5 wait for a rising gate edge; the others start at once. */
    if (p->mode == 1 || p->mode == 5)
        p->armed = 0;
    else
        arm(p);
}

static void latch_count(struct pit2 *p)
{
    if (p->latched)
        return; /* a second latch before the first is read is ignored */
    p->latch = current(p);
    p->latched = p->rw == 3 ? 2 : 1;
    p->latch_msb = p->rw == 2;
}

static void control(struct pit2 *p, uint8_t v)
{
    uint32_t sc = v >> 6, rw = (v >> 4) & 3;
    if (sc == 3) {
        /* Read-back: bits 5 and 4 are active low (latch count, latch status), bit 3 picks
         * counter 2. */
        if (!(v & 0x08))
            return;
        if (!(v & 0x10) && !p->status_latched) {
            p->status = (uint8_t)((out2(p) << 7) | (p->null_count << 6) | (p->rw << 4) | (p->mode << 1));
            p->status_latched = 1;
        }
        if (!(v & 0x20))
            latch_count(p);
        return;
    }
    if (sc != 2)
        return; /* channels 0 and 1 are absent */
    if (rw == 0) {
        latch_count(p);
        return;
    }
    p->rw = (uint8_t)rw;
    p->mode = (uint8_t)((v >> 1) & 7);
    if (p->mode > 5)
        p->mode -= 4; /* 6 and 7 are 2 and 3 with a don't-care bit */
    p->write_msb = p->read_msb = 0;
    p->latched = 0;
    p->status_latched = 0;
    /* A control word stops the counter until a count is written. */
    p->armed = 0;
    p->null_count = 1;
}

uint8_t pit_read(struct pit2 *p, uint32_t port)
{
    if (port == PIT_PORT_GATE) {
        uint64_t refresh = timer_monotonic_ns() / REFRESH_PERIOD_NS;
        return (uint8_t)((p->port61 & 0x0F) | ((refresh & 1) << 4) | (out2(p) << 5));
    }
    if (port != PIT_PORT_CH2)
        return 0xFF; /* the control register cannot be read back */
    if (p->status_latched) {
        p->status_latched = 0;
        return p->status;
    }
    if (p->latched) {
        uint8_t b = p->latch_msb ? (uint8_t)(p->latch >> 8) : (uint8_t)p->latch;
        p->latch_msb = !p->latch_msb;
        p->latched--;
        return b;
    }
    uint16_t c = current(p);
    switch (p->rw) {
    case 1:
        return (uint8_t)c;
    case 2:
        return (uint8_t)(c >> 8);
    default:
        p->read_msb = !p->read_msb;
        return p->read_msb ? (uint8_t)c : (uint8_t)(c >> 8);
    }
}

void pit_write(struct pit2 *p, uint32_t port, uint8_t value)
{
    if (port == PIT_PORT_CTRL) {
        control(p, value);
        return;
    }
    if (port == PIT_PORT_GATE) {
        int was = p->port61 & 1, now = value & 1;
        if (was && !now)
            p->frozen = elapsed(p);
        p->port61 = value & 0x0F;
        if (!was && now) {
            if (p->mode == 0 || p->mode == 4)
                p->start_tsc = x86_rdtsc(); /* resumes where it paused */
            else if (p->null_count == 0 || p->mode == 1 || p->mode == 5)
                arm(p);                     /* a rising edge (re)triggers these modes */
        }
        return;
    }
    switch (p->rw) {
    case 1:
        load(p, value);
        break;
    case 2:
        load(p, (uint32_t)value << 8);
        break;
    default:
        if (!p->write_msb) {
            p->lsb = value;
            p->write_msb = 1;
            /* Mode 0 stops counting while a new count is half written. */
            if (p->mode == 0)
                p->armed = 0;
        } else {
            p->write_msb = 0;
            load(p, p->lsb | ((uint32_t)value << 8));
        }
    }
}
