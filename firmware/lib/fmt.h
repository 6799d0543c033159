/* A small printf-style formatter: %d %i %u %x %X %p %s %c %% with flags, width, l/ll/z. */
#ifndef FW_FMT_H
#define FW_FMT_H
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Receives each output character. */
typedef void (*fmt_sink)(void *ctx, char c);

/* Formats fmt with ap into sink; returns the number of characters produced. */
size_t fmt_vformat(fmt_sink sink, void *ctx, const char *fmt, va_list ap);

/* Formats into buf (always NUL-terminated when size > 0); returns the untruncated length. */
size_t fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Divides n by d (d != 0) without libgcc, which 32-bit builds lack; stores the remainder. */
uint64_t fmt_udivmod64(uint64_t n, uint64_t d, uint64_t *rem);

#endif
