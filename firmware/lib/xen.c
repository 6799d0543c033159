/* Xen detection by CPUID and hypercall dispatch (VMCALL / VMMCALL / hypercall page). */
#include "xen.h"
#include "cpu.h"
#include "str.h"

struct xen_info xen = { .domid = -1 };

/* Reads a 12-byte CPUID signature spread over three registers. */
static void sig_copy(char out[13], uint32_t a, uint32_t b, uint32_t c)
{
	memcpy(out, &a, 4);
	memcpy(out + 4, &b, 4);
	memcpy(out + 8, &c, 4);
	out[12] = 0;
}

void xen_detect(void)
{
	uint32_t r[4];
	char sig[13];

	cpu_cpuid(0, 0, r);
	sig_copy(xen.vendor, r[1], r[3], r[2]);
	/*
	 * AMD and Hygon CPUs implement VMMCALL and raise #UD on VMCALL; Intel is the other
	 * way round. Linux 6.1 makes the same choice from the vendor string.
	 */
	if (!strcmp(xen.vendor, "AuthenticAMD") || !strcmp(xen.vendor, "HygonGenuine"))
		xen.insn = HC_INSN_VMMCALL;
	else
		xen.insn = HC_INSN_VMCALL;

	/*
	 * Xen may move its leaves up in steps of 0x100 (e.g. to 0x40000100 when it also
	 * offers Viridian at 0x40000000), so scan them all; base+2 is the minimum useful
	 * range because it holds the hypercall page MSR.
	 */
	for (uint32_t base = 0x40000000; base < 0x40010000; base += 0x100) {
		cpu_cpuid(base, 0, r);
		sig_copy(sig, r[1], r[2], r[3]);
		if (strcmp(sig, "XenVMMXenVMM") || r[0] < base + 2)
			continue;
		xen.present = 1;
		xen.base = base;
		xen.max_leaf = r[0];
		cpu_cpuid(base + 1, 0, r);
		xen.version = r[0];
		if (xen.max_leaf >= base + 4) {
			cpu_cpuid(base + 4, 0, r);
			if (r[0] & XEN_HVM_CPUID_DOMID_PRESENT)
				xen.domid = (int)(r[2] & 0xffff);
		}
		return;
	}
}

const char *xen_insn_name(enum hc_insn insn)
{
	switch (insn) {
	case HC_INSN_VMMCALL:
		return "vmmcall";
	case HC_INSN_PAGE:
		return "page";
	default:
		return "vmcall";
	}
}

long xen_hypercall(unsigned long nr, unsigned long a1, unsigned long a2, unsigned long a3,
		   unsigned long a4, unsigned long a5)
{
	/* Without a hypervisor VMCALL/VMMCALL raise #UD, so refuse instead of faulting. */
	if (!xen.present)
		return -XEN_ENOSYS;
	return hc_raw(xen.insn, xen.hcpage, nr, a1, a2, a3, a4, a5);
}

long xen_console_write(const char *s, unsigned long n)
{
	return xen_hypercall(HC_CONSOLE_IO, CONSOLEIO_WRITE, n, (unsigned long)s, 0, 0);
}

long xen_shutdown(unsigned reason)
{
	uint32_t arg = reason;
	return xen_hypercall(HC_SCHED_OP, SCHEDOP_SHUTDOWN, (unsigned long)&arg, 0, 0, 0);
}

long xen_shutdown_code(unsigned code)
{
	uint32_t arg = code;
	return xen_hypercall(HC_SCHED_OP, SCHEDOP_SHUTDOWN_CODE, (unsigned long)&arg, 0, 0, 0);
}

long xen_yield(void)
{
	return xen_hypercall(HC_SCHED_OP, SCHEDOP_YIELD, 0, 0, 0, 0);
}

long xen_memory_map(struct xen_e820_entry *e, unsigned max)
{
	/* struct xen_memory_map: the guest handle is a native pointer in either ABI. */
	struct {
		unsigned int nr_entries;
		void *buffer;
	} map = { max, e };
	long rc = xen_hypercall(HC_MEMORY_OP, XENMEM_MEMORY_MAP, (unsigned long)&map, 0, 0, 0);

	if (rc < 0)
		return rc;
	/* Xen writes back how many entries it stored; never trust more than we offered. */
	return map.nr_entries <= max ? (long)map.nr_entries : -22;
}
