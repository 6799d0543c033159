/* Legacy interrupt routing: the 8259s masked, ISA IRQs delivered through the IOAPIC. */
#ifndef ZAZEN_IOAPIC_H
#define ZAZEN_IOAPIC_H
#include <stdint.h>

/* Remaps and masks both 8259s, finds the IOAPICs and ISA overrides in the ACPI MADT
 * (default: one IOAPIC at 0xFEC00000, identity ISA mapping) and masks every input. */
void ioapic_init(void);

/* Routes ISA IRQ irq to vector on this CPU's LAPIC; returns 0 if no IOAPIC serves it. */
int ioapic_route_isa(uint8_t irq, uint8_t vector);

#endif
