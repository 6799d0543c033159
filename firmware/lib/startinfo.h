/* struct hvm_start_info (xen public/arch-x86/hvm/start_info.h) and its validation. */
#ifndef FW_STARTINFO_H
#define FW_STARTINFO_H
#include <stdint.h>

#define HVM_START_MAGIC 0x336ec578u

/* Version 1 layout, 56 bytes. */
struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
	uint64_t memmap_paddr; /* version >= 1 */
	uint32_t memmap_entries, reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
};

struct hvm_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

/* Everything a guest needs from its boot, checked and reachable from C. */
struct boot {
	const struct hvm_start_info *si;
	const char *cmdline; /* never 0; "" when absent */
	const struct hvm_memmap_entry *memmap;
	uint32_t nr_memmap;
	const struct hvm_modlist_entry *modules;
	uint32_t nr_modules;
	const char *memmap_source; /* "start_info", "memory_op" or "none" */
};

/* Validates the start_info at physical address phys into b; returns 0 or why it is bad. */
const char *si_parse(uint32_t phys, struct boot *b);

/* When start_info has no memory map (version 0, as Xen gives a PVH dom0), asks Xen with
 * XENMEM_memory_map like Linux does; returns 0 or why that failed. */
const char *si_memmap_from_xen(struct boot *b);

/* Name of an e820-style memory type ("ram", "reserved", ...). */
const char *si_memtype_name(uint32_t type);

/* Prints one "memmap ..." line per entry and a summary line with the RAM total. */
void si_print_memmap(const struct boot *b);

/* Prints one "module ..." line per module. */
void si_print_modules(const struct boot *b);

#endif
