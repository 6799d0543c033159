/* The shim's log: printf to the console, kept in a buffer for `xl dmesg`. */
#ifndef ZAZEN_KLOG_H
#define ZAZEN_KLOG_H
#include <stddef.h>

/* Formats like printf, writes to the console and appends to the boot log. */
void klog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Returns the boot log's bytes so far and stores its length in *len. */
const char *klog_buffer(size_t *len);

/* Prints the message, the registers if given, a backtrace, then halts forever. */
void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#endif
