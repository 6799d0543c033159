/* AMD SVM: the state page <-> VMCB copies, the guest-owned MSRs, the crash dump. */
/* The guest's FPU/SSE state is live while this runs (vcpu.c switches it lazily). */
#pragma GCC target("general-regs-only")
#include <stdint.h>
#include "klog.h"
#include "svm.h"
#include "x86.h"

#define CR0_PE        1ull
#define CR0_PG        (1ull << 31)
#define RFLAGS_VM     (1ull << 17)
/* RFLAGS bits software may set; bit 1 always reads 1. */
#define RFLAGS_VALID  0x3F7FD5ull
/* SCE, LME, LMA (ignored), NXE, SVME (ignored), LMSLE, FFXSR, TCE */
#define EFER_WRITABLE 0xFD01ull

static void seg_in(struct svm_seg *to, const struct zz_seg *from)
{
    to->sel = from->sel;
    to->attr = from->attr;
    to->limit = from->limit;
    to->base = from->base;
}

static void seg_out(struct zz_seg *to, const struct svm_seg *from)
{
    to->sel = from->sel;
    to->attr = from->attr;
    to->limit = from->limit;
    to->base = from->base;
}

void svm_load_state(struct vcpu *v, uint64_t dirty)
{
    struct vmcb *vm = v->hw;
    struct zz_vcpu_state *st = v->st;

    /* RAX and RIP go to the VMCB at every entry, the rest only when TypeScript changed
     * them (no fast exit handler writes RSP or RFLAGS). */
    if (dirty & ZZ_DIRTY_GPR)
        vm->rsp = st->gpr[GPR_RSP];
    if (dirty & ZZ_DIRTY_RIP) {
        st->rflags = (st->rflags & RFLAGS_VALID) | 2;
        vm->rflags = st->rflags;
    }
    if (dirty & ZZ_DIRTY_CR) {
        vm->cr0 = st->cr0;
        vm->cr2 = st->cr2;
        vm->cr3 = st->cr3;
        vm->cr4 = st->cr4;
        /* LMA follows LME and CR0.PG as the CPU would have set it. */
        uint64_t efer = st->efer & ~(EFER_LMA | EFER_SVME);
        if ((efer & EFER_LME) && (st->cr0 & CR0_PG))
            efer |= EFER_LMA;
        /* VMRUN refuses a guest EFER without SVME; the guest never sees it. */
        vm->efer = efer | EFER_SVME;
        v->hw_dirty |= SVM_CLEAN_CRX | SVM_CLEAN_CR2;
        v->cc.valid = 0;
    }
    if (dirty & ZZ_DIRTY_SEG) {
        seg_in(&vm->es, &st->seg[SEG_ES]);
        seg_in(&vm->cs, &st->seg[SEG_CS]);
        seg_in(&vm->ss, &st->seg[SEG_SS]);
        seg_in(&vm->ds, &st->seg[SEG_DS]);
        seg_in(&vm->fs, &st->seg[SEG_FS]);
        seg_in(&vm->gs, &st->seg[SEG_GS]);
        seg_in(&vm->ldtr, &st->seg[SEG_LDTR]);
        seg_in(&vm->tr, &st->seg[SEG_TR]);
        vm->gdtr.limit = st->gdtr.limit;
        vm->gdtr.base = st->gdtr.base;
        vm->idtr.limit = st->idtr.limit;
        vm->idtr.base = st->idtr.base;
        v->hw_dirty |= SVM_CLEAN_SEG | SVM_CLEAN_DT;
    }
    if (dirty & (ZZ_DIRTY_SEG | ZZ_DIRTY_CR | ZZ_DIRTY_RIP)) {
        /* The VMCB's CPL is what the CPU uses: SS.DPL in protected mode. */
        if (!(vm->cr0 & CR0_PE))
            vm->cpl = 0;
        else if (st->rflags & RFLAGS_VM)
            vm->cpl = 3;
        else
            vm->cpl = (vm->ss.attr >> 5) & 3;
        v->hw_dirty |= SVM_CLEAN_SEG;
    }
    if (dirty & ZZ_DIRTY_MSR) {
        vm->kernel_gs_base = st->kernel_gs_base;
        vm->star = st->star;
        vm->lstar = st->lstar;
        vm->cstar = st->cstar;
        vm->sfmask = st->sfmask;
        vm->sysenter_cs = st->sysenter_cs;
        vm->sysenter_esp = st->sysenter_esp;
        vm->sysenter_eip = st->sysenter_eip;
        vm->g_pat = st->pat;
        v->hw_dirty |= SVM_CLEAN_NP;
    }
    if (dirty & ZZ_DIRTY_DR) {
        vm->dr6 = st->dr6;
        vm->dr7 = st->dr7;
        v->hw_dirty |= SVM_CLEAN_DRX;
    }
    if (dirty & ZZ_DIRTY_TSC) {
        vm->tsc_offset = st->tsc_offset;
        v->hw_dirty |= SVM_CLEAN_I;
    }
    svm_guest_refresh(v, vm);
}

void svm_save_state(struct vcpu *v)
{
    struct vmcb *vm = v->hw;
    struct zz_vcpu_state *st = v->st;

    if (v->ctl_dirty) {
        vm->int_state = v->g.shadow; /* a skipped instruction left its STI shadow */
        v->ctl_dirty = 0;
    }
    st->raw_exit_code = vm->exit_code;
    st->raw_info1 = vm->exit_info1;
    st->raw_info2 = vm->exit_info2;
    st->raw_intinfo = vm->exit_int_info;
    if (v->exit.reason == VX_INVALID)
        return; /* a refused VMRUN wrote nothing trustworthy (TCG writes partial state) */
    st->gpr[GPR_RSP] = vm->rsp;
    st->cr0 = vm->cr0;
    st->cr2 = vm->cr2;
    st->cr3 = vm->cr3;
    st->cr4 = vm->cr4;
    st->efer = vm->efer & ~EFER_SVME;
    seg_out(&st->seg[SEG_ES], &vm->es);
    seg_out(&st->seg[SEG_CS], &vm->cs);
    seg_out(&st->seg[SEG_SS], &vm->ss);
    seg_out(&st->seg[SEG_DS], &vm->ds);
    seg_out(&st->seg[SEG_FS], &vm->fs);
    seg_out(&st->seg[SEG_GS], &vm->gs);
    seg_out(&st->seg[SEG_LDTR], &vm->ldtr);
    seg_out(&st->seg[SEG_TR], &vm->tr);
    seg_out(&st->gdtr, &vm->gdtr);
    seg_out(&st->idtr, &vm->idtr);
    st->kernel_gs_base = vm->kernel_gs_base;
    st->star = vm->star;
    st->lstar = vm->lstar;
    st->cstar = vm->cstar;
    st->sfmask = vm->sfmask;
    st->sysenter_cs = vm->sysenter_cs;
    st->sysenter_esp = vm->sysenter_esp;
    st->sysenter_eip = vm->sysenter_eip;
    st->pat = vm->g_pat;
    st->dr6 = vm->dr6;
    st->dr7 = vm->dr7;
    st->tsc_offset = vm->tsc_offset;
}

static int canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

int svm_own_msr(struct vcpu *v, uint32_t msr, int write, uint64_t *value)
{
    struct vmcb *vm = v->hw;
    uint64_t x = *value, *field;
    int need_canonical = 1;

    switch (msr) {
    case MSR_EFER:
        if (!write) {
            *value = vm->efer & ~EFER_SVME;
            return 0;
        }
        if (x & ~EFER_WRITABLE)
            return -1;
        /* Changing LME with paging on is a #GP on real CPUs too. */
        if (((x ^ vm->efer) & EFER_LME) && (vm->cr0 & CR0_PG))
            return -1;
        vm->efer = (x & ~(EFER_LMA | EFER_SVME)) | (vm->efer & EFER_LMA) | EFER_SVME;
        v->g.efer = vm->efer;
        v->hw_dirty |= SVM_CLEAN_CRX;
        return 0;
    case MSR_PAT:
        if (!write) {
            *value = vm->g_pat;
            return 0;
        }
        for (int i = 0; i < 8; i++) {
            uint8_t t = (uint8_t)(x >> (8 * i));
            if (t == 2 || t == 3 || t > 7)
                return -1;
        }
        vm->g_pat = x;
        v->hw_dirty |= SVM_CLEAN_NP;
        return 0;
    case MSR_TSC:
        if (!write) {
            *value = x86_rdtsc() + vm->tsc_offset;
            return 0;
        }
        vm->tsc_offset = x - x86_rdtsc();
        v->hw_dirty |= SVM_CLEAN_I;
        return 0;
    case MSR_STAR: field = &vm->star; need_canonical = 0; break;
    case MSR_SFMASK: field = &vm->sfmask; need_canonical = 0; break;
    case MSR_SYSENTER_CS: field = &vm->sysenter_cs; need_canonical = 0; break;
    case MSR_LSTAR: field = &vm->lstar; break;
    case MSR_CSTAR: field = &vm->cstar; break;
    case MSR_KERNEL_GS_BASE: field = &vm->kernel_gs_base; break;
    case MSR_FS_BASE: field = &vm->fs.base; break;
    case MSR_GS_BASE: field = &vm->gs.base; break;
    case MSR_SYSENTER_ESP: field = &vm->sysenter_esp; break;
    case MSR_SYSENTER_EIP: field = &vm->sysenter_eip; break;
    default:
        return -1;
    }
    if (!write) {
        *value = *field;
        return 0;
    }
    if (need_canonical && !canonical(x))
        return -1;
    *field = x;
    return 0;
}

void svm_dump(struct vcpu *v)
{
    const struct vmcb *vm = v->hw;
    const struct svm_seg *s[] = {&vm->cs, &vm->ss, &vm->ds, &vm->es, &vm->fs, &vm->gs,
                                 &vm->tr, &vm->ldtr, &vm->gdtr, &vm->idtr};
    const char *names[] = {"cs", "ss", "ds", "es", "fs", "gs", "tr", "ldtr", "gdtr", "idtr"};

    klog("  svm: exit %#llx info1 %#llx info2 %#llx intinfo %#llx asid %u cpl %u shadow %llu\n",
         (unsigned long long)vm->exit_code, (unsigned long long)vm->exit_info1,
         (unsigned long long)vm->exit_info2, (unsigned long long)vm->exit_int_info, vm->asid,
         vm->cpl, (unsigned long long)(vm->int_state & 1));
    klog("  cr0 %016llx cr2 %016llx cr3 %016llx cr4 %016llx efer %016llx\n",
         (unsigned long long)vm->cr0, (unsigned long long)vm->cr2, (unsigned long long)vm->cr3,
         (unsigned long long)vm->cr4, (unsigned long long)vm->efer);
    for (int i = 0; i < 10; i++)
        klog("  %-4s sel %04x attr %04x limit %08x base %016llx\n", names[i], s[i]->sel,
             s[i]->attr, s[i]->limit, (unsigned long long)s[i]->base);
    klog("  ncr3 %016llx int_ctl %016llx dr6 %llx dr7 %llx\n", (unsigned long long)vm->n_cr3,
         (unsigned long long)vm->int_ctl, (unsigned long long)vm->dr6,
         (unsigned long long)vm->dr7);
}

