/* Guest console: Xen console_io when a hypervisor is present, else QEMU's port 0xE9. */
#ifndef FW_CONSOLE_H
#define FW_CONSOLE_H
#include <stdarg.h>
#include <stddef.h>

/* Where console output goes. */
enum con_sink { CON_E9, CON_XEN };

/* Chooses the sink; CON_XEN falls back to CON_E9 for good if console_io fails. */
void con_init(enum con_sink sink);

/* The sink in use. */
enum con_sink con_sink(void);

/* First failing console_io result (0 if none): a guest can report a broken console. */
long con_xen_error(void);

/* Appends n bytes; the buffer is sent one line per hypercall (or when full). */
void con_write(const char *s, size_t n);

/* Sends whatever is buffered. */
void con_flush(void);

/* printf to the console. */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* vprintf to the console. */
void kvprintf(const char *fmt, va_list ap);

#endif
