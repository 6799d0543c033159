/* hello / hello32: greets with its domain id, echoes its boot data, then powers off. */
#include "guest.h"

#if defined(__x86_64__)
const char guest_name[] = "hello";
#else
const char guest_name[] = "hello32";
#endif

void guest_main(const struct boot *b)
{
	if (xen.domid >= 0)
		kprintf("hello from zazen guest (dom %d)\n", xen.domid);
	else
		kprintf("hello from zazen guest (dom unknown)\n");
	kprintf("cmdline \"%s\"\n", b->cmdline);
	kprintf("start_info version=%u flags=%#x rsdp=%#llx\n", b->si->version, b->si->flags,
		(unsigned long long)b->si->rsdp_paddr);
	si_print_memmap(b);
	si_print_modules(b);

	if (xen.present) {
		/* XENVER_version must agree with CPUID base+1; both are (major << 16) | minor. */
		long v = xen_hypercall(HC_XEN_VERSION, XENVER_VERSION, 0, 0, 0, 0);
		kprintf("xen_version %#lx (cpuid %#x) via %s\n", (unsigned long)v, xen.version,
			xen_insn_name(xen.insn));
		if (v < 0)
			verdict_fail("xen_version returned %ld", v);
		if ((unsigned long)v != xen.version)
			verdict_fail("xen_version %#lx differs from CPUID base+1 %#x",
				     (unsigned long)v, xen.version);
		con_flush();
		if (con_xen_error())
			verdict_fail("console_io write returned %ld", con_xen_error());
	}
	verdict_pass();
}
