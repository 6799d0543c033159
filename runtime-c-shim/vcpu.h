/* Vendor-neutral domains and vCPUs: the ABI v2 state page, the exit record, the run loop. */
#ifndef ZAZEN_VCPU_H
#define ZAZEN_VCPU_H
#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "pit.h"

/* The run results, exit reasons, injection types, state page and dirty bits are the
 * ABI's: see abi.h. */

enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR };
enum { GPR_RAX, GPR_RCX, GPR_RDX, GPR_RBX, GPR_RSP, GPR_RBP, GPR_RSI, GPR_RDI };

/* ---- limits: a domain's tables fit its one-frame struct domain (domain.c) ---- */

#define VCPU_MAX_DOMAINS   64
#define VCPU_MAX_VCPUS     256
#define DOMAIN_MAX_CPUID   146 /* 28-byte entries in one frame */
#define DOMAIN_MAX_MSRS    128
#define DOMAIN_MAX_PORTS   64  /* forwarded port ranges */
#define DOMAIN_MAX_MMIO    32
#define DOMAIN_HYPERCALLS  64
#define VCPU_MSR_SLOTS     32  /* action-1 (per-vCPU value) MSRs */

#define CPUID_SUBLEAF_ANY  0xFFFFFFFFu
#define CPUID_F_VCPU_ID    (1u << 0)
#define CPUID_F_APIC_ID    (1u << 1)
#define CPUID_F_X2APIC_ID  (1u << 2)
#define CPUID_F_OSXSAVE    (1u << 3)

enum { MSR_ACT_FIXED = 0, MSR_ACT_VCPU = 1, MSR_ACT_FORWARD = 2, MSR_ACT_OWN = 3 };
enum { HCALL_ENOSYS = 0, HCALL_FORWARD = 1, HCALL_FAST = 2 };

struct cpuid_entry { uint32_t leaf, subleaf, eax, ebx, ecx, edx, flags; };
struct msr_entry { uint32_t msr; uint16_t action, slot; uint64_t value; };
struct port_range { uint16_t first, last; };   /* inclusive */
struct mmio_range { uint64_t base, end; };     /* [base, end) guest-physical */
struct hcall_entry { uint32_t mode, data; };

struct vcpu;

struct domain {
    uint32_t handle, domid;
    uint64_t self_pa;             /* the frame holding this struct */
    uint64_t npt_root;            /* 0: not set yet */
    uint64_t iopm_pa, msrpm_pa;   /* vendor bitmaps (SVM: the shared IOPM, own MSRPM) */
    uint64_t xcr0_allowed;        /* host XCR0 limited by the CPUID table's leaf 0xD */
    struct cpuid_entry *cpuid;    /* sorted by (leaf, subleaf); one frame */
    /* For leaves 0-63, 0x40000000-63 and 0x80000000-63: 1 + the index of the leaf's
     * first entry (0: none), so the common lookups need no search. */
    uint8_t cpuid_index[3][64];
    uint32_t ncpuid, nmsrs, nports, nmmio, nslots;
    struct msr_entry msrs[DOMAIN_MAX_MSRS];   /* sorted by msr */
    struct port_range ports[DOMAIN_MAX_PORTS];
    struct mmio_range mmio[DOMAIN_MAX_MMIO];
    struct hcall_entry hcall[DOMAIN_HYPERCALLS];
    struct pit2 pit;              /* ZZ_DEVICE_PIT2 */
    uint32_t send_ports[ZZ_SEND_PORTS]; /* domainSetSendPorts */
    uint32_t nsend_ports;
    struct vcpu *vcpus;           /* list through vcpu.next */
};

/* Vendor-neutral exit reasons, filled in by svm.c (vmx.c later) after every VM exit. */
/* Their values are the ABI's exit kinds, so the counters index stat_kind directly. */
enum vexit_reason {
    VX_NONE = ZZ_KIND_NONE, VX_CPUID = ZZ_KIND_CPUID, VX_MSR = ZZ_KIND_MSR, VX_IO = ZZ_KIND_IO,
    VX_HLT = ZZ_KIND_HLT, VX_VMMCALL = ZZ_KIND_HYPERCALL, VX_EXCEPTION = ZZ_KIND_EXCEPTION,
    VX_NPF = ZZ_KIND_NPF, VX_SHUTDOWN = ZZ_KIND_SHUTDOWN, VX_INVALID = ZZ_KIND_INVALID,
    VX_INTR = ZZ_KIND_INTR, VX_NMI = ZZ_KIND_NMI, VX_IRQ_WINDOW = ZZ_KIND_IRQ_WINDOW,
    VX_XSETBV = ZZ_KIND_XSETBV, VX_RDPMC = ZZ_KIND_RDPMC, VX_INVD = ZZ_KIND_INVD,
    VX_UD_INSN = ZZ_KIND_UD_INSN /* an instruction the guest may not use: inject #UD */,
    VX_OTHER = ZZ_KIND_OTHER,
};

/* One event to deliver, in the ABI's terms (type ZZ_INJECT_*). */
struct vevent { uint32_t type, vector, has_error, error; };

struct vexit {
    uint32_t reason;       /* enum vexit_reason */
    uint32_t vector;       /* VX_EXCEPTION: the vector */
    uint64_t next_rip;     /* 0 when the hardware did not report it */
    uint64_t gpa;          /* VX_NPF */
    uint64_t npf_error;    /* VX_NPF: the vendor's error code, for crash reports */
    uint32_t npf_write, npf_fetch, npf_walk; /* VX_NPF: write access, instruction fetch,
                                                fault while walking the guest's tables */
    uint32_t msr_write;    /* VX_MSR */
    uint32_t io_port, io_size, io_in, io_string, io_rep, io_asize; /* VX_IO */
    struct vevent pending; /* an event the exit interrupted (type 0: none) */
    uint32_t insn_count;   /* bytes in insn_bytes (decode assists), 0 if none */
    uint8_t insn_bytes[15];
    uint64_t raw_code;     /* the vendor's exit code (the rest: save_state) */
};

/* The guest control state exit handlers read, copied out of the VMCB at every exit. */
struct vguest {
    uint64_t cr0, cr3, cr4, efer, cs_base;
    uint32_t cs_attr, cpl, shadow; /* shadow: in an STI/MOV SS interrupt shadow */
};

/* The last code page translation (guest linear page -> host page), per vCPU. */
struct code_cache { uint64_t cr3, page, host; uint32_t valid; };

/* A pending MMIO read whose destination is narrower than 32 bits: TypeScript writes the
 * value zero-extended, the next vcpuRun merges it into the old register value. */
struct mmio_fixup { uint32_t active, reg, size, high; uint64_t old; };

struct vcpu {
    uint32_t handle, id;
    struct domain *d;
    struct vcpu *next;
    struct zz_vcpu_state *st;
    uint64_t st_pa, self_pa, self_frames;
    void *hw;              /* vendor control block (SVM: the VMCB) */
    uint64_t hw_pa;
    uint32_t hw_dirty;     /* vendor-private: control-block areas changed since entry */
    uint32_t hw_window;    /* vendor-private: interrupt-window request programmed */
    uint8_t *fpu;          /* XSAVE/FXSAVE image, 64-byte aligned */
    struct vexit exit;
    struct vguest g;
    uint32_t ctl_dirty;    /* VCTL_* changes for the vendor code to write back */
    uint32_t want_window;  /* ask for an exit when the guest can take an interrupt */
    struct vevent pending; /* from TypeScript or re-queued: delivered when possible */
    struct vevent exc;     /* raised by exit handling: delivered at the next entry */
    struct vevent inject;  /* what the vendor code injects at this entry (type 0: none) */
    uint32_t injected_from;/* 1: inject came from pending, 2: from exc */
    uint32_t asid, flush;
    uint64_t asid_gen;
    struct code_cache cc;
    struct mmio_fixup fix;
    const char *crash_why; /* set with ZZ_RUN_CRASH, logged once the run ends */
    uint32_t crash_nbytes;
    uint8_t crash_bytes[15];
    uint64_t msr_vals[VCPU_MSR_SLOTS];
    uint64_t timer_due_ns; /* set by the single-shot fast path: end the run by then (0: no change) */
};

#define VCTL_SHADOW (1u << 0) /* g.shadow changed (an instruction was skipped) */

/* What the vendor code (svm.c, later vmx.c) provides to the vendor-neutral core. */
struct virt_ops {
    const char *name;
    /* Allocates the domain's intercept bitmaps (all intercepted); 0, or -1. */
    int (*domain_init)(struct domain *d);
    void (*domain_free)(struct domain *d);
    /* Points every vCPU of the domain at its nested page table and flushes its TLB. */
    void (*domain_npt_changed)(struct domain *d);
    /* Allocates and initialises the vendor control block; 0, or -1 when out of memory. */
    int (*vcpu_init)(struct vcpu *v);
    void (*vcpu_free)(struct vcpu *v);
    /* Fills the domain's intercept bitmaps from its MSR table (after domainSetMsrs). */
    void (*domain_msrs_changed)(struct domain *d);
    /* Loads state-page fields flagged in dirty into the control block. */
    void (*load_state)(struct vcpu *v, uint64_t dirty);
    /* Writes the whole guest state (and the raw exit fields) from the control block
     * into the state page. */
    void (*save_state)(struct vcpu *v);
    /* Prepares the CPU before a run's first entry (SVM: saves the host's VMLOAD state). */
    void (*run_begin)(struct vcpu *v);
    /* Enters the guest once and fills v->exit and v->g; interrupts must be off. */
    void (*enter)(struct vcpu *v);
    /* Reads or writes an MSR the guest owns (action 3); 0, or -1 for #GP. */
    int (*own_msr)(struct vcpu *v, uint32_t msr, int write, uint64_t *value);
    /* Logs the vendor control fields worth seeing in a crash report. */
    void (*dump)(struct vcpu *v);
};

extern const struct virt_ops *virt;

#define EFER_LMA      (1ull << 10)
#define SEG_ATTR_L    0x200 /* packed attribute: 64-bit code segment */
#define SEG_ATTR_DB   0x400 /* packed attribute: 32-bit default size */
#define RFLAGS_IF     (1ull << 9)
#define RFLAGS_DF     (1ull << 10)
#define CR4_OSXSAVE   (1ull << 18)

/* 1 when the guest executes 64-bit code (long mode and a CS with L set). */
static inline int vcpu_long64(const struct vcpu *v)
{
    return (v->g.efer & EFER_LMA) && (v->g.cs_attr & SEG_ATTR_L);
}

/* ---- capability detection (svm.c, vmx.c) ---- */

struct virt_caps {
    const char *vendor;   /* "amd", "intel", "other" */
    int svm, npt, nrips, decode_assists, vmcb_clean, flush_by_asid, vmx, usable;
    uint32_t asids, revision;
    const char *reason;   /* what is missing when !usable, else "" */
};

/* Detects SVM and fills caps (vendor, svm, npt, ..., reason); never faults. */
void svm_detect(struct virt_caps *caps);

/* Detects Intel VMX and fills caps' vmx field and reason. */
void vmx_detect(struct virt_caps *caps);

/* ---- the core (vcpu.c: vCPUs and running; domain.c: domains) ---- */

/* Detects the hardware and turns virtualization on once; returns the capabilities. */
const struct virt_caps *vcpu_caps(void);

/* Error codes of the calls below; vcpu_error() describes the last one. */
#define VCPU_EINVAL  (-1)
#define VCPU_ENOMEM  (-2)
#define VCPU_ENODEV  (-3)

/* The message for the last negative result, for the JS bindings to throw. */
const char *vcpu_error(void);

/* Records the message for vcpu_error (printf-style) and returns code (vcpu.c and
 * domain.c use it; never on the fast path, where the guest's FPU state is live). */
int vcpu_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The host's XCR0 (1 when the host runs without XSAVE): a guest's XCR0 stays within it. */
uint64_t vcpu_host_xcr0(void);

/* 1 if x is an XCR0 value the domain's guests may load (XSETBV's rules). */
int vcpu_xcr0_valid(const struct domain *d, uint64_t x);

/* Creates a domain; returns its handle (> 0) or a negative VCPU_E*. */
int64_t domain_create(uint32_t domid);

/* Destroys a domain and all its vCPUs; 0 or VCPU_EINVAL. */
int domain_destroy(uint32_t handle);

/* Sets the nested page table root for all the domain's vCPUs and flushes their TLBs. */
int domain_set_npt(uint32_t handle, uint64_t root);

/* Replaces the CPUID table with n entries of 7 u32 each. */
int domain_set_cpuid(uint32_t handle, const uint32_t *words, size_t n);

/* Replaces the MSR table with n entries of 4 u32 each. */
int domain_set_msrs(uint32_t handle, const uint32_t *words, size_t n);

/* Sets the forwarded ports from an 8192-byte bitmap. */
int domain_set_ports(uint32_t handle, const uint8_t *bitmap);
/* Sets the guest ports whose EVTCHNOP_send the fast path defers (at most ZZ_SEND_PORTS). */
int domain_set_send_ports(uint32_t handle, const uint32_t *ports, uint32_t n);
/* Turns the fast-path device models on or off (ZZ_DEVICE_* flags); each starts reset. */
int domain_set_devices(uint32_t handle, uint32_t flags);

/* Sets the MMIO ranges from n (base, length) pairs. */
int domain_set_mmio(uint32_t handle, const uint64_t *pairs, size_t n);

/* Sets the hypercall table from 64 (mode, data) pairs. */
int domain_set_hypercalls(uint32_t handle, const uint32_t *words);

/* Creates a vCPU; returns its handle and stores the state page's address in *state_pa. */
int64_t vcpu_create(uint32_t domain_handle, uint32_t vcpu_id, uint64_t *state_pa);

/* Destroys a vCPU; 0 or VCPU_EINVAL. */
int vcpu_destroy(uint32_t handle);

/* Runs a vCPU until something needs TypeScript; returns ZZ_RUN_* or a negative VCPU_E*. */
int vcpu_run(uint32_t handle, uint64_t deadline_ns);

/* Looks up a domain by handle; NULL if there is none. */
struct domain *domain_lookup(uint32_t handle);

/* Looks up a vCPU by handle; NULL if there is none. */
struct vcpu *vcpu_lookup(uint32_t handle);

#endif
