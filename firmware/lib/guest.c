/* The guest runtime's start-up sequence, verdict lines and shutdown paths. */
#include "guest.h"
#include "trap.h"

/* The latched shutdown code when there is no Xen to latch it; -1 when none. */
static int local_code = -1;

const char *guest_reason_name(unsigned reason)
{
	switch (reason) {
	case SHUTDOWN_POWEROFF:
		return "poweroff";
	case SHUTDOWN_REBOOT:
		return "reboot";
	case SHUTDOWN_SUSPEND:
		return "suspend";
	case SHUTDOWN_CRASH:
		return "crash";
	case SHUTDOWN_WATCHDOG:
		return "watchdog";
	case SHUTDOWN_SOFT_RESET:
		return "soft_reset";
	default:
		return "unknown";
	}
}

long guest_latch_code(unsigned code)
{
	if (xen.present)
		return xen_shutdown_code(code);
	/* Xen keeps the first latched code (common/sched/core.c); mirror that. */
	if (local_code < 0)
		local_code = (int)(code & 0xff);
	return 0;
}

void guest_exit(unsigned reason)
{
	con_flush();
	if (xen.present) {
		long rc = xen_shutdown(reason);
		kprintf("ERROR SCHEDOP_shutdown(%s) returned %ld; halting\n",
			guest_reason_name(reason), rc);
		con_flush();
	} else {
		/* isa-debug-exit: the latched code wins over the reason, as Xen reports it. */
		cpu_outl(DEBUG_EXIT_PORT, local_code >= 0 ? (uint32_t)local_code : reason);
		/* Still here: no isa-debug-exit device. Say so where a human will see it. */
		kprintf("ERROR no isa-debug-exit device at port 0xf4; halting\n");
		con_flush();
	}
	cpu_halt_forever();
}

void verdict_pass(void)
{
	kprintf("VERDICT %s: PASS\n", guest_name);
}

static void verdict_vfail(const char *fmt, va_list ap)
{
	kprintf("VERDICT %s: FAIL (", guest_name);
	kvprintf(fmt, ap);
	kprintf(")\n");
}

void verdict_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verdict_vfail(fmt, ap);
	va_end(ap);
	guest_exit(SHUTDOWN_POWEROFF);
}

void verdict_fail_exit(unsigned reason, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verdict_vfail(fmt, ap);
	va_end(ap);
	guest_exit(reason);
}

/* Prints the first line every guest shows: who it is and what it found. */
static void banner(void)
{
	int bits = sizeof(long) * 8;

	if (xen.present)
		kprintf("zazen-fw %s (%d-bit): Xen %u.%u leaves=%#x dom=%d vendor=%s "
			"hypercall=%s\n",
			guest_name, bits, xen.version >> 16, xen.version & 0xffff, xen.base,
			xen.domid, xen.vendor, xen_insn_name(xen.insn));
	else
		kprintf("zazen-fw %s (%d-bit): no Xen leaves, vendor=%s; console on port 0xe9, "
			"exit by isa-debug-exit\n",
			guest_name, bits, xen.vendor);
}

/* Options every guest accepts: con=xen|e9 and hypercall=direct|page. */
static void common_options(void)
{
	static const char *const consoles[] = { "xen", "e9" };
	static const char *const calls[] = { "direct", "page" };

	if (opt_choice("con", consoles, 2, 0) == 1)
		con_init(CON_E9);
	if (opt_choice("hypercall", calls, 2, 0) == 1) {
		const char *why = xen_hcpage_install(1);
		if (why)
			verdict_fail("hypercall=page: %s", why);
		kprintf("hypercalls now go through the hypercall page at %p\n", xen.hcpage);
	}
}

/* Bounds of the loaded image, from the linker script. */
extern char __image_start[], __bss_start[], __bss_end[];

void guest_start(uint32_t start_info_phys, uint32_t bss_dirty)
{
	struct boot b;
	const char *why;
	uint32_t img_lo = (uint32_t)(unsigned long)__image_start;
	uint32_t img_hi = (uint32_t)(unsigned long)__bss_end;

	xen_detect();
	con_init(xen.present ? CON_XEN : CON_E9);
	trap_init();
	banner();
	if (bss_dirty)
		kprintf("WARNING the loader left non-zero bytes in .bss [%#x, %#x)\n",
			(uint32_t)(unsigned long)__bss_start, img_hi);
	/* The entry code zeroed .bss, so a start_info placed inside the image is gone. */
	if (start_info_phys >= img_lo && start_info_phys < img_hi)
		verdict_fail("start_info at %#x lies inside the image [%#x, %#x)", start_info_phys,
			     img_lo, img_hi);
	why = si_parse(start_info_phys, &b);
	if (why)
		verdict_fail("bad start_info at %#x: %s", start_info_phys, why);
	why = si_memmap_from_xen(&b);
	if (why)
		kprintf("WARNING no memory map: %s\n", why);
	why = opt_init(b.cmdline);
	if (why)
		verdict_fail("bad command line: %s", why);
	common_options();
	guest_main(&b);
	con_flush();
	guest_exit(SHUTDOWN_POWEROFF);
}
