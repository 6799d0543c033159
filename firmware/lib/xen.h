/* Xen detection (CPUID leaves) and the hypercall interface the guests use. */
#ifndef FW_XEN_H
#define FW_XEN_H
#include <stdint.h>
#include "hypercall.h"

/* Hypercall numbers and sub-ops (xen public/xen.h, sched.h, version.h, console_io). */
#define HC_MEMORY_OP 12
#define HC_XEN_VERSION 17
#define HC_CONSOLE_IO 18
#define HC_SCHED_OP 29
#define XENMEM_MEMORY_MAP 9
#define XENVER_VERSION 0
#define XENVER_EXTRAVERSION 1
#define CONSOLEIO_WRITE 0
#define SCHEDOP_YIELD 0
#define SCHEDOP_SHUTDOWN 2
#define SCHEDOP_SHUTDOWN_CODE 5
#define SHUTDOWN_POWEROFF 0
#define SHUTDOWN_REBOOT 1
#define SHUTDOWN_SUSPEND 2
#define SHUTDOWN_CRASH 3
#define SHUTDOWN_WATCHDOG 4
#define SHUTDOWN_SOFT_RESET 5
#define XEN_ENOSYS 38

/* CPUID base+4 EAX flags (public/arch-x86/cpuid.h). */
#define XEN_HVM_CPUID_VCPU_ID_PRESENT (1u << 3)
#define XEN_HVM_CPUID_DOMID_PRESENT (1u << 4)

/* What the guest learned about its hypervisor. */
struct xen_info {
	int present;          /* "XenVMMXenVMM" found with at least base+2 */
	uint32_t base;        /* leaf of the signature, e.g. 0x40000000 */
	uint32_t max_leaf;    /* base+0 EAX */
	uint32_t version;     /* base+1 EAX: major << 16 | minor */
	int domid;            /* base+4 ECX if flagged, else -1 */
	char vendor[13];      /* CPUID 0 vendor string */
	enum hc_insn insn;    /* how hypercalls are issued now */
	void *hcpage;         /* the hypercall page once installed, else 0 */
};

/* The state filled in by xen_detect. */
extern struct xen_info xen;

/* Scans CPUID 0x40000000 + 0x100*i for Xen and picks VMMCALL (AMD, Hygon) or VMCALL. */
void xen_detect(void);

/* Name of an instruction choice, for messages ("vmcall", "vmmcall", "page"). */
const char *xen_insn_name(enum hc_insn insn);

/* Issues a hypercall the current way; returns -ENOSYS (negative) when Xen is absent. */
long xen_hypercall(unsigned long nr, unsigned long a1, unsigned long a2, unsigned long a3,
		   unsigned long a4, unsigned long a5);

/* Installs the hypercall page via the MSR from CPUID base+2; returns 0 or why not, and
 * on success routes later hypercalls through the page when use is nonzero. */
const char *xen_hcpage_install(int use);

/* Writes n bytes through console_io CONSOLEIO_write; returns the hypercall result. */
long xen_console_write(const char *s, unsigned long n);

/* Shuts the domain down with reason (SHUTDOWN_*); returns only if the hypercall failed. */
long xen_shutdown(unsigned reason);

/* Latches the code reported at the later shutdown (SCHEDOP_shutdown_code). */
long xen_shutdown_code(unsigned code);

/* One entry of XENMEM_memory_map's e820-style table (public/memory.h, packed 20 bytes). */
struct xen_e820_entry {
	uint64_t addr, size;
	uint32_t type;
} __attribute__((packed));

/* Reads the domain's memory map via XENMEM_memory_map into up to max entries; returns the
 * number of entries or the negative hypercall error. */
long xen_memory_map(struct xen_e820_entry *e, unsigned max);

/* Yields the vCPU (SCHEDOP_yield). */
long xen_yield(void);

#endif
