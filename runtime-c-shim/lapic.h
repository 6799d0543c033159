/* The local APIC in x2APIC or xAPIC mode: EOI, ID and the one-shot timer (internal). */
#ifndef ZAZEN_LAPIC_H
#define ZAZEN_LAPIC_H
#include <stdint.h>

/* Enables the LAPIC (x2APIC when CPUID.1:ECX[21] says so) with its timer stopped. */
void lapic_init(void);

/* 1 in x2APIC mode. */
int lapic_x2apic(void);

/* This CPU's APIC ID. */
uint32_t lapic_id(void);

/* Starts the timer counting down from count (0 stops it); it interrupts at zero unless
 * masked. */
void lapic_timer_start(uint32_t count, int masked);

/* The timer's current count. */
uint32_t lapic_timer_current(void);

#endif
