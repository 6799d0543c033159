/* The Xen hypercall page: installed through the MSR that CPUID base+2 names. */
#include "xen.h"
#include "cpu.h"
#include "trap.h"

/* The page Xen fills with 128 stubs of 32 bytes ("mov $nr, %eax; vmcall; ret"). */
static unsigned char hcpage[4096] __attribute__((aligned(4096)));

const char *xen_hcpage_install(int use)
{
	uint32_t r[4];

	if (!xen.present)
		return "no Xen hypervisor";
	cpu_cpuid(xen.base + 2, 0, r);
	/* EAX is the number of pages Xen offers and EBX the MSR that installs them. */
	if (r[0] < 1 || r[1] == 0)
		return "CPUID base+2 offers no hypercall page";
	/*
	 * MSR value = guest-physical page address | page index (0 here). Paging is either
	 * off or an identity map, so the linear address of hcpage is its physical address.
	 */
	if (trap_wrmsr_safe(r[1], (uint64_t)(unsigned long)hcpage) >= 0)
		return "writing the hypercall page MSR raised an exception";
	/* Stub 0 must now begin with "mov $imm32, %eax" (0xb8); a page left zero means the
	 * hypervisor accepted the MSR but filled nothing. */
	if (hcpage[0] != 0xb8)
		return "the hypercall page was not filled";
	xen.hcpage = hcpage;
	if (use)
		xen.insn = HC_INSN_PAGE;
	return 0;
}
