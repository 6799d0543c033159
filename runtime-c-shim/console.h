/* The hypervisor console: COM1 plus the screen, and the input side for the REPL. */
#ifndef ZAZEN_CONSOLE_H
#define ZAZEN_CONSOLE_H
#include <stddef.h>

/* Brings up COM1 at 115200 8N1. Receive interrupts follow with console_start_input
 * (they need the IOAPIC), the screen with screen_init (it needs boot_info); kmain
 * does both. */
void console_init(void);

/* Writes n bytes to COM1 (LF becomes CRLF) and to the screen. */
void console_write(const char *s, size_t n);

/* Draws pending output on the screen now (console_write draws at most every 20 ms). */
void console_flush(void);

/* Routes COM1's receive interrupt to the input ring; call once the IOAPIC is set up.
 * Before that (or if routing failed) console_read and console_input_pending poll. */
void console_start_input(void);

/* Bytes dropped because the input ring (8 KiB) was full. */
unsigned long long console_rx_dropped(void);

/* Moves up to max received bytes out of the input ring; returns how many. */
size_t console_read(char *buf, size_t max);

/* Nonzero when received bytes are waiting in the input ring. */
int console_input_pending(void);

/*
 * Ctrl-C handling for runInterruptible: while console_interrupt_armed is set, the
 * receive interrupt turns a 0x03 byte into console_interrupt_pending = 1 instead of
 * queueing it. The engine's interrupt handler polls and clears the pending flag.
 */
extern volatile int console_interrupt_armed;
extern volatile int console_interrupt_pending;

#endif
