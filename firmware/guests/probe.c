/* probe: reports what CPUID, MSRs, ports and both hypercall paths show, machine-readably. */
#include "guest.h"
#include "trap.h"

const char guest_name[] = "probe";

#define TRAP_UD 6
#define TRAP_GP 13
#define MSR_UNKNOWN_DEFAULT 0xc0011234u

/* Ports that neither Xen nor zazen emulate for a PVH domU: reads must return all-ones. */
static const struct {
	uint16_t port;
	uint8_t size;
} default_ports[] = {
	{ 0x80, 1 },  { 0x3f8, 1 }, { 0x2f8, 1 }, { 0x60, 1 },  { 0x64, 1 },  { 0x70, 1 },
	{ 0x71, 1 },  { 0x40, 1 },  { 0x20, 1 },  { 0x21, 1 },  { 0x1f7, 1 }, { 0x61, 1 },
	{ 0xcf8, 4 }, { 0xcfc, 4 }, { 0xcfc, 2 }, { 0xcfe, 1 },
};

static int failures;
static char reasons[160];
static size_t reasons_len;

/* Records a failed expectation for the verdict line (and keeps probing); the list is
 * cut with "..." past its buffer, the PROBE lines above it have every detail. */
static void fail(const char *what)
{
	failures++;
	if (reasons_len < sizeof(reasons))
		reasons_len += fmt_snprintf(reasons + reasons_len, sizeof(reasons) - reasons_len,
					    "%s%s", reasons_len ? "; " : "", what);
	if (reasons_len >= sizeof(reasons))
		memcpy(reasons + sizeof(reasons) - 4, "...", 4);
}

static void probe_cpuid_leaf(uint32_t leaf)
{
	uint32_t r[4];
	cpu_cpuid(leaf, 0, r);
	kprintf("PROBE cpuid %#010x eax=%#010x ebx=%#010x ecx=%#010x edx=%#010x\n", leaf, r[0],
		r[1], r[2], r[3]);
}

static void probe_cpuid(void)
{
	kprintf("PROBE vendor %s\n", xen.vendor);
	probe_cpuid_leaf(0);
	probe_cpuid_leaf(1);
	probe_cpuid_leaf(0x80000001);
	if (!xen.present) {
		/* Still show what the first hypervisor leaf holds without Xen. */
		probe_cpuid_leaf(0x40000000);
		kprintf("PROBE xen none\n");
		fail("no Xen signature in CPUID 0x40000000-0x4000ff00");
		return;
	}
	kprintf("PROBE xen base=%#x max=%#x version=%u.%u domid=%d\n", xen.base, xen.max_leaf,
		xen.version >> 16, xen.version & 0xffff, xen.domid);
	for (uint32_t l = xen.base; l <= xen.base + 5; l++)
		probe_cpuid_leaf(l);
}

static void probe_msr(uint32_t msr, const char *name)
{
	uint64_t v = 0;
	int vec = trap_rdmsr_safe(msr, &v);
	if (vec < 0)
		kprintf("PROBE msr %#010x %s value=%#018llx\n", msr, name, (unsigned long long)v);
	else
		kprintf("PROBE msr %#010x %s fault=%s\n", msr, name, trap_name((unsigned)vec));
}

/* A UD2 under the fault-recovery path proves the IDT and the recovery work before the
 * MSR verdict depends on them. */
static void probe_trap_selftest(void)
{
	int vec = trap_ud2_safe();
	kprintf("PROBE trap ud2 fault=%s\n", vec < 0 ? "none" : trap_name((unsigned)vec));
	if (vec != TRAP_UD)
		fail("UD2 did not reach the guest's #UD handler");
}

static void probe_msrs(void)
{
	uint64_t unknown = opt_num("msr", MSR_UNKNOWN_DEFAULT, 0xffffffffu);
	uint64_t v;
	int vec;

	probe_msr(0xc0000080, "efer");
	probe_msr(0x1b, "apic_base");
	probe_msr(0x10, "tsc");
	probe_msr(0x277, "pat");
	vec = trap_rdmsr_safe((uint32_t)unknown, &v);
	if (vec < 0) {
		kprintf("PROBE msr %#010x unknown value=%#018llx\n", (uint32_t)unknown,
			(unsigned long long)v);
		fail("reading the unknown MSR did not raise #GP");
	} else {
		kprintf("PROBE msr %#010x unknown fault=%s\n", (uint32_t)unknown,
			trap_name((unsigned)vec));
		if (vec != TRAP_GP)
			fail("the unknown MSR raised an exception other than #GP");
	}
}

static uint32_t port_in(uint16_t port, unsigned size)
{
	return size == 1 ? cpu_inb(port) : size == 2 ? cpu_inw(port) : cpu_inl(port);
}

static void probe_port(uint16_t port, unsigned size)
{
	uint32_t ones = size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
	uint32_t v = port_in(port, size);
	int ok = v == ones;

	kprintf("PROBE port %#06x size=%u value=%#0*x %s\n", port, size, (int)size * 2 + 2, v,
		ok ? "all-ones" : "NOT-all-ones");
	if (!ok) {
		char what[64];
		fmt_snprintf(what, sizeof(what), "port %#x read %#x", port, v);
		fail(what);
	}
}

/* ports=P[:S],P[:S],... (S in bytes, default 1) replaces the default list. */
static void probe_ports(void)
{
	const char *list = opt_get("ports");

	/* Writes to unemulated ports must be dropped; 0x80 is the classic POST/delay port. */
	cpu_outb(0x80, 0x42);
	if (!list) {
		for (unsigned i = 0; i < sizeof(default_ports) / sizeof(default_ports[0]); i++)
			probe_port(default_ports[i].port, default_ports[i].size);
		return;
	}
	while (*list) {
		char item[24];
		size_t n = 0;
		uint64_t port, size = 1;
		char *colon;

		while (list[n] && list[n] != ',')
			n++;
		if (n == 0 || n >= sizeof(item))
			verdict_fail("bad option ports=%s: expected PORT[:SIZE],...", opt_get("ports"));
		memcpy(item, list, n);
		item[n] = 0;
		list += n + (list[n] == ',');
		colon = item;
		while (*colon && *colon != ':')
			colon++;
		if (*colon) {
			*colon = 0;
			if (opt_parse_u64(colon + 1, &size) || (size != 1 && size != 2 && size != 4))
				verdict_fail("bad option ports=%s: size must be 1, 2 or 4",
					     opt_get("ports"));
		}
		if (opt_parse_u64(item, &port) || port > 0xffff)
			verdict_fail("bad option ports=%s: port must be 0-0xffff", opt_get("ports"));
		probe_port((uint16_t)port, (unsigned)size);
	}
}

/* Calls xen_version through VMCALL/VMMCALL and through the hypercall page; they must agree. */
static void probe_hypercalls(void)
{
	const char *why;
	long direct, paged;
	const unsigned char *stub;

	if (!xen.present) {
		kprintf("PROBE hypercall none\n");
		return;
	}
	direct = hc_raw(xen.insn == HC_INSN_PAGE ? HC_INSN_VMMCALL : xen.insn, 0, HC_XEN_VERSION,
			XENVER_VERSION, 0, 0, 0, 0);
	kprintf("PROBE hypercall %s xen_version=%#lx\n",
		xen_insn_name(xen.insn == HC_INSN_PAGE ? HC_INSN_VMMCALL : xen.insn),
		(unsigned long)direct);
	if (direct < 0)
		fail("xen_version by direct instruction failed");
	why = xen.hcpage ? 0 : xen_hcpage_install(0);
	if (why) {
		kprintf("PROBE hcpage error %s\n", why);
		fail(why);
		return;
	}
	stub = xen.hcpage;
	kprintf("PROBE hcpage addr=%p stub0=%02x %02x %02x %02x %02x %02x %02x %02x %02x\n",
		xen.hcpage, stub[0], stub[1], stub[2], stub[3], stub[4], stub[5], stub[6], stub[7],
		stub[8]);
	paged = hc_raw(HC_INSN_PAGE, xen.hcpage, HC_XEN_VERSION, XENVER_VERSION, 0, 0, 0, 0);
	kprintf("PROBE hypercall page xen_version=%#lx\n", (unsigned long)paged);
	if (paged != direct)
		fail("xen_version differs between direct and hypercall-page calls");
}

void guest_main(const struct boot *b)
{
	(void)b;
	probe_cpuid();
	probe_trap_selftest();
	probe_msrs();
	probe_ports();
	probe_hypercalls();
	if (failures)
		verdict_fail("%d problem%s: %s", failures, failures > 1 ? "s" : "", reasons);
	verdict_pass();
}
