/* AMD SVM: the VMCB layout, intercept and exit codes, and the SVM half of the vCPU core. */
#ifndef ZAZEN_SVM_H
#define ZAZEN_SVM_H
#include <stdint.h>
#include "vcpu.h"

/* The VMCB (AMD APM vol. 2, appendix B): a 1 KiB control area, then the state save
 * area. Offsets are checked below; reserved gaps are named pad*. */
struct svm_seg { uint16_t sel, attr; uint32_t limit; uint64_t base; };

struct vmcb {
    /* control area */
    uint32_t icpt_cr, icpt_dr, icpt_exc, icpt1, icpt2, icpt3; /* 0x000 */
    uint8_t pad0[0x3c - 0x18];
    uint16_t pause_thresh, pause_count;                      /* 0x03c */
    uint64_t iopm_pa, msrpm_pa, tsc_offset;                  /* 0x040 */
    uint32_t asid;                                           /* 0x058 */
    uint8_t tlb_control, pad1[3];                            /* 0x05c */
    uint64_t int_ctl, int_state;                             /* 0x060 */
    uint64_t exit_code, exit_info1, exit_info2, exit_int_info; /* 0x070 */
    uint64_t np_enable, avic_bar, ghcb_pa, event_inj, n_cr3; /* 0x090 */
    uint64_t lbr_ctl;                                        /* 0x0b8 */
    uint32_t clean, pad2;                                    /* 0x0c0 */
    uint64_t next_rip;                                       /* 0x0c8 */
    uint8_t insn_count, insn_bytes[15];                      /* 0x0d0 */
    uint8_t pad3[0x400 - 0xe0];
    /* state save area */
    struct svm_seg es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr; /* 0x400 */
    uint8_t pad4[0x4cb - 0x4a0];
    uint8_t cpl;                                             /* 0x4cb */
    uint32_t pad5;
    uint64_t efer;                                           /* 0x4d0 */
    uint8_t pad6[0x548 - 0x4d8];
    uint64_t cr4, cr3, cr0, dr7, dr6, rflags, rip;           /* 0x548 */
    uint8_t pad7[0x5d8 - 0x580];
    uint64_t rsp, s_cet, ssp, isst_addr, rax;                /* 0x5d8 */
    uint64_t star, lstar, cstar, sfmask, kernel_gs_base;     /* 0x600 */
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip, cr2;   /* 0x628 */
    uint8_t pad8[0x668 - 0x648];
    uint64_t g_pat, dbgctl;                                  /* 0x668 */
    uint8_t pad9[0x1000 - 0x678];
};

_Static_assert(sizeof(struct vmcb) == 0x1000, "VMCB is one page");
_Static_assert(__builtin_offsetof(struct vmcb, iopm_pa) == 0x40, "VMCB iopm");
_Static_assert(__builtin_offsetof(struct vmcb, asid) == 0x58, "VMCB asid");
_Static_assert(__builtin_offsetof(struct vmcb, int_ctl) == 0x60, "VMCB int_ctl");
_Static_assert(__builtin_offsetof(struct vmcb, exit_code) == 0x70, "VMCB exit_code");
_Static_assert(__builtin_offsetof(struct vmcb, event_inj) == 0xa8, "VMCB event_inj");
_Static_assert(__builtin_offsetof(struct vmcb, n_cr3) == 0xb0, "VMCB n_cr3");
_Static_assert(__builtin_offsetof(struct vmcb, clean) == 0xc0, "VMCB clean");
_Static_assert(__builtin_offsetof(struct vmcb, next_rip) == 0xc8, "VMCB next_rip");
_Static_assert(__builtin_offsetof(struct vmcb, insn_count) == 0xd0, "VMCB insn bytes");
_Static_assert(__builtin_offsetof(struct vmcb, es) == 0x400, "VMCB es");
_Static_assert(__builtin_offsetof(struct vmcb, tr) == 0x490, "VMCB tr");
_Static_assert(__builtin_offsetof(struct vmcb, cpl) == 0x4cb, "VMCB cpl");
_Static_assert(__builtin_offsetof(struct vmcb, efer) == 0x4d0, "VMCB efer");
_Static_assert(__builtin_offsetof(struct vmcb, cr4) == 0x548, "VMCB cr4");
_Static_assert(__builtin_offsetof(struct vmcb, rip) == 0x578, "VMCB rip");
_Static_assert(__builtin_offsetof(struct vmcb, rsp) == 0x5d8, "VMCB rsp");
_Static_assert(__builtin_offsetof(struct vmcb, rax) == 0x5f8, "VMCB rax");
_Static_assert(__builtin_offsetof(struct vmcb, star) == 0x600, "VMCB star");
_Static_assert(__builtin_offsetof(struct vmcb, cr2) == 0x640, "VMCB cr2");
_Static_assert(__builtin_offsetof(struct vmcb, g_pat) == 0x668, "VMCB g_pat");

/* Intercept vector 1 (offset 0x00c) and 2 (0x010): bit n is exit code 0x60 + n and
 * 0x80 + n respectively. */
#define SVM_I1_INTR      (1u << 0)
#define SVM_I1_NMI       (1u << 1)
#define SVM_I1_VINTR     (1u << 4)
#define SVM_I1_RDPMC     (1u << 15)
#define SVM_I1_CPUID     (1u << 18)
#define SVM_I1_INVD      (1u << 22)
#define SVM_I1_HLT       (1u << 24)
#define SVM_I1_INVLPGA   (1u << 26)
#define SVM_I1_IOIO      (1u << 27)
#define SVM_I1_MSR       (1u << 28)
#define SVM_I1_SHUTDOWN  (1u << 31)
#define SVM_I2_VMRUN     (1u << 0)
#define SVM_I2_VMMCALL   (1u << 1)
#define SVM_I2_VMLOAD    (1u << 2)
#define SVM_I2_VMSAVE    (1u << 3)
#define SVM_I2_STGI      (1u << 4)
#define SVM_I2_CLGI      (1u << 5)
#define SVM_I2_SKINIT    (1u << 6)
#define SVM_I2_MONITOR   (1u << 10)
#define SVM_I2_MWAIT     (1u << 11)
#define SVM_I2_MWAIT_C   (1u << 12)
#define SVM_I2_XSETBV    (1u << 13)

/* Exit codes. */
#define SVM_EXIT_EXC_BASE 0x40
#define SVM_EXIT_INTR     0x60
#define SVM_EXIT_NMI      0x61
#define SVM_EXIT_VINTR    0x64
#define SVM_EXIT_RDPMC    0x6f
#define SVM_EXIT_CPUID    0x72
#define SVM_EXIT_INVD     0x76
#define SVM_EXIT_HLT      0x78
#define SVM_EXIT_INVLPGA  0x7a
#define SVM_EXIT_IOIO     0x7b
#define SVM_EXIT_MSR      0x7c
#define SVM_EXIT_SHUTDOWN 0x7f
#define SVM_EXIT_VMRUN    0x80
#define SVM_EXIT_VMMCALL  0x81
#define SVM_EXIT_VMLOAD   0x82
#define SVM_EXIT_VMSAVE   0x83
#define SVM_EXIT_STGI     0x84
#define SVM_EXIT_CLGI     0x85
#define SVM_EXIT_SKINIT   0x86
#define SVM_EXIT_MONITOR  0x8a
#define SVM_EXIT_MWAIT    0x8b
#define SVM_EXIT_MWAIT_C  0x8c
#define SVM_EXIT_XSETBV   0x8d
#define SVM_EXIT_NPF      0x400

/* int_ctl fields. */
#define SVM_V_IRQ          (1ull << 8)
#define SVM_V_INTR_PRIO(p) ((uint64_t)(p) << 16)
#define SVM_V_IGN_TPR      (1ull << 20)
#define SVM_V_INTR_MASKING (1ull << 24)

/* EVENTINJ / EXITINTINFO. */
#define SVM_EV_VALID       (1ull << 31)
#define SVM_EV_HAS_ERROR   (1ull << 11)
#define SVM_EV_TYPE_INTR   0
#define SVM_EV_TYPE_NMI    2
#define SVM_EV_TYPE_EXC    3
#define SVM_EV_TYPE_SOFT   4

/* VMCB clean bits (when CPUID 0x8000000A EDX bit 5 says the CPU caches VMCB fields). */
#define SVM_CLEAN_I      (1u << 0)  /* intercepts, TSC offset... */
#define SVM_CLEAN_IOPM   (1u << 1)  /* IOPM/MSRPM bases, TSC offset */
#define SVM_CLEAN_ASID   (1u << 2)
#define SVM_CLEAN_TPR    (1u << 3)  /* int_ctl */
#define SVM_CLEAN_NP     (1u << 4)  /* nested CR3, g_pat */
#define SVM_CLEAN_CRX    (1u << 5)  /* CR0, CR3, CR4, EFER */
#define SVM_CLEAN_DRX    (1u << 6)
#define SVM_CLEAN_DT     (1u << 7)  /* GDTR, IDTR */
#define SVM_CLEAN_SEG    (1u << 8)  /* CS, DS, SS, ES, CPL */
#define SVM_CLEAN_CR2    (1u << 9)
#define SVM_CLEAN_ALL    0x3ffu

#define SVM_IOPM_FRAMES  3
#define SVM_MSRPM_FRAMES 2

#define MSR_TSC            0x10
#define MSR_SYSENTER_CS    0x174
#define MSR_SYSENTER_ESP   0x175
#define MSR_SYSENTER_EIP   0x176
#define MSR_PAT            0x277
#define MSR_EFER           0xC0000080
#define MSR_STAR           0xC0000081
#define MSR_LSTAR          0xC0000082
#define MSR_CSTAR          0xC0000083
#define MSR_SFMASK         0xC0000084
#define MSR_FS_BASE        0xC0000100
#define MSR_GS_BASE        0xC0000101
#define MSR_KERNEL_GS_BASE 0xC0000102
#define EFER_LME           (1ull << 8)
#define EFER_SVME          (1ull << 12)

/* The world switch (svm_entry.S): saves the host's callee-saved registers and its
 * VMLOAD state into host_pa, loads the guest GPRs from gprs[16] (x86 order; RAX and
 * RSP come from the VMCB), VMLOADs, VMRUNs and VMSAVEs the guest at vmcb_pa, stores
 * the guest GPRs back, restores the host, and returns with GIF=1 and IF=0. */
void svm_world_switch(uint64_t *gprs, uint64_t vmcb_pa, uint64_t host_pa);

/* Turns SVM on (EFER.SVME, the host save area); 0, or -1 when out of memory. */
int svm_enable(const struct virt_caps *caps);

/* The SVM implementation of the vendor interface (svm.c). */
extern const struct virt_ops svm_ops;

/* svm_state.c: the virt_ops entries that copy state and emulate the guest's MSRs. */
void svm_load_state(struct vcpu *v, uint64_t dirty);
void svm_save_state(struct vcpu *v);
int svm_own_msr(struct vcpu *v, uint32_t msr, int write, uint64_t *value);
void svm_dump(struct vcpu *v);

/* Copies the control state the exit handlers read out of the VMCB. */
static inline void svm_guest_refresh(struct vcpu *v, const struct vmcb *vm)
{
    v->g.cr0 = vm->cr0;
    v->g.cr3 = vm->cr3;
    v->g.cr4 = vm->cr4;
    v->g.efer = vm->efer;
    v->g.cs_base = vm->cs.base;
    v->g.cs_attr = vm->cs.attr;
    v->g.cpl = vm->cpl;
    v->g.shadow = vm->int_state & 1;
}

#endif
