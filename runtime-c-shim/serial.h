/* The 16550 UART on COM1 (internal to the shim; console.c is its user). */
#ifndef ZAZEN_SERIAL_H
#define ZAZEN_SERIAL_H
#include <stddef.h>

/* Programs COM1 for 115200 8N1 with interrupts off; returns 0 if no UART answers. */
int serial_init(void);

/* Writes n bytes, turning LF into CRLF, waiting for the transmitter as needed. */
void serial_write(const char *s, size_t n);

/* Reads one received byte into *c; returns 0 when none is waiting. */
int serial_getc(char *c);

/* Enables the receive-data interrupt (the line must be routed by the IOAPIC). */
void serial_enable_rx_irq(void);

#endif
