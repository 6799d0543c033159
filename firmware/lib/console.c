/* Line-buffered console output through console_io (hypercall 18) or debug port 0xE9. */
#include "console.h"
#include "cpu.h"
#include "fmt.h"
#include "xen.h"

/* QEMU's -debugcon and Bochs' port E9 hack print every byte written to this port. */
#define DEBUGCON_PORT 0xe9
#define LINE_MAX 256

static enum con_sink sink = CON_E9;
static long xen_error;
static char line[LINE_MAX];
static size_t line_len;

void con_init(enum con_sink s)
{
	sink = s;
}

enum con_sink con_sink(void)
{
	return sink;
}

long con_xen_error(void)
{
	return xen_error;
}

static void e9_write(const char *s, size_t n)
{
	while (n--)
		cpu_outb(DEBUGCON_PORT, (unsigned char)*s++);
}

void con_flush(void)
{
	if (!line_len)
		return;
	if (sink == CON_XEN) {
		/*
		 * Like Linux's xen_hvm_early_write: a console_io failure (e.g. -ENOSYS) sends the
		 * text to port 0xE9 instead, so nothing is lost; later lines go there directly.
		 */
		long rc = xen_console_write(line, line_len);
		if (rc < 0) {
			xen_error = rc;
			sink = CON_E9;
			e9_write(line, line_len);
		}
	} else {
		e9_write(line, line_len);
	}
	line_len = 0;
}

void con_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		line[line_len++] = s[i];
		if (s[i] == '\n' || line_len == LINE_MAX)
			con_flush();
	}
}

static void con_put(void *ctx, char c)
{
	(void)ctx;
	con_write(&c, 1);
}

void kvprintf(const char *fmt, va_list ap)
{
	fmt_vformat(con_put, 0, fmt, ap);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vformat(con_put, 0, fmt, ap);
	va_end(ap);
}
