/* Checks hvm_start_info before the guest trusts any of its pointers, and prints it. */
#include "startinfo.h"
#include "console.h"
#include "xen.h"

#define CMDLINE_MAX 2048       /* Linux's COMMAND_LINE_SIZE; longer lines are refused */
#define MAX_MEMMAP 128
#define MAX_MODULES 64
#define ADDR_LIMIT 0x100000000ull  /* paging off or identity-mapped: only the first 4 GiB */

/* Nonzero if [paddr, paddr+len) is addressable, non-null and does not wrap. */
static int reachable(uint64_t paddr, uint64_t len)
{
	return paddr != 0 && paddr < ADDR_LIMIT && len <= ADDR_LIMIT - paddr;
}

static const void *ptr(uint64_t paddr)
{
	return (const void *)(uintptr_t)paddr;
}

const char *si_parse(uint32_t phys, struct boot *b)
{
	static const char empty[1];
	const struct hvm_start_info *si;

	b->si = 0;
	b->cmdline = empty;
	b->memmap = 0;
	b->nr_memmap = 0;
	b->modules = 0;
	b->nr_modules = 0;
	b->memmap_source = "none";
	if (!reachable(phys, sizeof(*si)))
		return "start_info address (EBX) is 0";
	si = ptr(phys);
	if (si->magic != HVM_START_MAGIC)
		return "start_info magic is not 0x336ec578";
	b->si = si;

	if (si->cmdline_paddr) {
		const char *c = ptr(si->cmdline_paddr);
		unsigned n = 0;
		if (!reachable(si->cmdline_paddr, CMDLINE_MAX))
			return "cmdline_paddr is above 4 GiB";
		while (n < CMDLINE_MAX && c[n])
			n++;
		if (n == CMDLINE_MAX)
			return "command line is not NUL-terminated within 2048 bytes";
		b->cmdline = c;
	}

	/* Version 0 ends before memmap_paddr; those fields are not ours to read then. */
	if (si->version >= 1 && si->memmap_entries) {
		if (si->memmap_entries > MAX_MEMMAP)
			return "memmap_entries is implausibly large (> 128)";
		if (!reachable(si->memmap_paddr,
			       (uint64_t)si->memmap_entries * sizeof(struct hvm_memmap_entry)))
			return "memmap_paddr is 0 or above 4 GiB";
		b->memmap = ptr(si->memmap_paddr);
		b->nr_memmap = si->memmap_entries;
		b->memmap_source = "start_info";
	}

	if (si->nr_modules) {
		if (si->nr_modules > MAX_MODULES)
			return "nr_modules is implausibly large (> 64)";
		if (!reachable(si->modlist_paddr,
			       (uint64_t)si->nr_modules * sizeof(struct hvm_modlist_entry)))
			return "modlist_paddr is 0 or above 4 GiB";
		b->modules = ptr(si->modlist_paddr);
		b->nr_modules = si->nr_modules;
	}
	return 0;
}

const char *si_memmap_from_xen(struct boot *b)
{
	static struct xen_e820_entry raw[MAX_MEMMAP];
	static struct hvm_memmap_entry conv[MAX_MEMMAP];
	long n;

	if (b->nr_memmap || !xen.present)
		return 0;
	n = xen_memory_map(raw, MAX_MEMMAP);
	if (n < 0)
		return "XENMEM_memory_map failed";
	for (long i = 0; i < n; i++) {
		conv[i].addr = raw[i].addr;
		conv[i].size = raw[i].size;
		conv[i].type = raw[i].type;
		conv[i].reserved = 0;
	}
	b->memmap = conv;
	b->nr_memmap = (uint32_t)n;
	b->memmap_source = "memory_op";
	return 0;
}

const char *si_memtype_name(uint32_t type)
{
	static const char *const names[] = { "?", "ram", "reserved", "acpi", "nvs",
					     "unusable", "disabled", "pmem" };
	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "unknown";
}

void si_print_memmap(const struct boot *b)
{
	uint64_t ram = 0;

	for (uint32_t i = 0; i < b->nr_memmap; i++) {
		const struct hvm_memmap_entry *e = &b->memmap[i];
		kprintf("memmap %u 0x%016llx-0x%016llx %s\n", i, (unsigned long long)e->addr,
			(unsigned long long)(e->addr + e->size), si_memtype_name(e->type));
		if (e->type == 1)
			ram += e->size;
	}
	kprintf("memmap summary entries=%u ram_kib=%llu source=%s\n", b->nr_memmap,
		(unsigned long long)(ram >> 10), b->memmap_source);
}

void si_print_modules(const struct boot *b)
{
	for (uint32_t i = 0; i < b->nr_modules; i++) {
		const struct hvm_modlist_entry *m = &b->modules[i];
		const char *cmd = "";
		if (m->cmdline_paddr && reachable(m->cmdline_paddr, 1))
			cmd = ptr(m->cmdline_paddr);
		kprintf("module %u paddr=0x%llx size=%llu cmdline=\"%.200s\"\n", i,
			(unsigned long long)m->paddr, (unsigned long long)m->size, cmd);
	}
	kprintf("modules %u\n", b->nr_modules);
}
