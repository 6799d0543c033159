/* Time: TSC calibration, monotonic and wall clocks, the LAPIC timer, idle waits. */
#ifndef ZAZEN_TIMER_H
#define ZAZEN_TIMER_H
#include <stdint.h>

/* Calibrates the TSC, reads the RTC and starts the LAPIC timer (x2APIC if present). */
void timer_init(void);

/* Calibrated TSC frequency in Hz. */
uint64_t timer_tsc_hz(void);

/* Nanoseconds since boot. */
uint64_t timer_monotonic_ns(void);

/* Milliseconds since the Unix epoch: RTC at boot plus elapsed TSC time. */
uint64_t timer_wall_ms(void);

/* 1 when the LAPIC runs in x2APIC mode. */
int timer_x2apic(void);

/*
 * Halts with interrupts enabled until any interrupt arrives or the monotonic clock
 * reaches deadline_ns (UINT64_MAX: no deadline), then returns with interrupts as
 * they were. Returns at once if console input is already waiting (checked with
 * interrupts off, so input that lands just before the call is not slept through).
 */
void timer_wait_until(uint64_t deadline_ns);

/*
 * Arms the LAPIC one-shot so that an interrupt arrives at deadline_ns (UINT64_MAX, or a
 * machine without a LAPIC timer: stops it). The counter is 32 bits, so a far deadline
 * interrupts early: callers check the clock and arm again. Used to preempt a running
 * guest; timer_wait_until shares the one-shot and leaves it stopped.
 */
void timer_set_deadline(uint64_t deadline_ns);

#endif
