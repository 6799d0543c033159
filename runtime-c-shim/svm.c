/* AMD SVM: detection, enabling, bitmaps, VMCBs, ASIDs, entering and exit decoding. */
/* The guest's FPU/SSE state is live while this runs (vcpu.c switches it lazily). */
#pragma GCC target("general-regs-only")
#include <stdint.h>
#include <string.h>
#include "cpu.h"
#include "klog.h"
#include "mm.h"
#include "svm.h"
#include "x86.h"

#define MSR_VM_CR       0xC0010114
#define MSR_VM_HSAVE_PA 0xC0010117
#define VM_CR_SVMDIS    (1ull << 4)

static struct virt_caps caps;
static uint64_t hsave_pa;     /* where VMRUN keeps the host state (VM_HSAVE_PA) */
/* One IOPM for every domain: all ones, every port intercepted. Which ports go to
 * TypeScript is the domain's business in C (exit.c), so the 12 KiB are shared. */
static uint64_t iopm_pa;
static uint64_t host_vmsave;  /* the host's VMSAVE block (FS, GS, TR, LDTR, syscall MSRs) */

/* ASIDs 1..asids-1, handed out per vCPU within a generation; when they run out a new
 * generation starts with one full TLB flush, so an ASID is never shared by two vCPUs
 * between flushes (and a vCPU's stale translations never outlive a reuse). */
static uint32_t asid_next = 1;
static uint64_t asid_gen = 1;
static int asid_flush_all = 1; /* the first VMRUN ever flushes whatever firmware left */
/* The VMCB entered last: the CPU's cached VMCB fields belong to it alone, so another
 * VMCB's clean bits are not to be trusted after a switch. */
static uint64_t last_vmcb_pa;

void svm_detect(struct virt_caps *c)
{
    uint32_t r[4];
    uint64_t vm_cr;

    cpu_cpuid(0x80000000, 0, r);
    uint32_t max_ext = r[0];
    if (max_ext >= 0x80000001) {
        cpu_cpuid(0x80000001, 0, r);
        c->svm = (r[2] >> 2) & 1;
    }
    if (!c->svm) {
        c->reason = "no SVM";
        return;
    }
    if (max_ext >= 0x8000000A) {
        cpu_cpuid(0x8000000A, 0, r);
        c->revision = r[0] & 0xFF;
        c->asids = r[1];
        c->npt = r[3] & 1;
        c->nrips = (r[3] >> 3) & 1;
        c->vmcb_clean = (r[3] >> 5) & 1;
        c->flush_by_asid = (r[3] >> 6) & 1;
        c->decode_assists = (r[3] >> 7) & 1;
    }
    if (cpu_rdmsr_safe(MSR_VM_CR, &vm_cr) == 0 && (vm_cr & VM_CR_SVMDIS)) {
        c->reason = "SVM disabled by firmware (VM_CR.SVMDIS)";
        return;
    }
    if (!c->npt) {
        c->reason = "no nested paging";
        return;
    }
    if (c->asids < 2) {
        c->reason = "no guest ASIDs";
        return;
    }
    c->usable = 1;
    c->reason = "";
}

int svm_enable(const struct virt_caps *c)
{
    caps = *c;
    hsave_pa = mm_frames_alloc(1);
    host_vmsave = mm_frames_alloc(1);
    iopm_pa = mm_frames_alloc(SVM_IOPM_FRAMES);
    if (!hsave_pa || !host_vmsave || !iopm_pa) {
        if (hsave_pa)
            mm_frames_free(hsave_pa, 1);
        if (host_vmsave)
            mm_frames_free(host_vmsave, 1);
        if (iopm_pa)
            mm_frames_free(iopm_pa, SVM_IOPM_FRAMES);
        hsave_pa = host_vmsave = iopm_pa = 0;
        return -1;
    }
    memset((void *)iopm_pa, 0xFF, SVM_IOPM_FRAMES * MM_PAGE_SIZE);
    x86_wrmsr(MSR_EFER, x86_rdmsr(MSR_EFER) | EFER_SVME);
    x86_wrmsr(MSR_VM_HSAVE_PA, hsave_pa);
    return 0;
}

/* ---- per-domain bitmaps ---- */

static int svm_domain_init(struct domain *d)
{
    d->iopm_pa = iopm_pa;
    d->msrpm_pa = mm_frames_alloc(SVM_MSRPM_FRAMES);
    if (!d->msrpm_pa)
        return -1;
    /* Every MSR intercepted until domainSetMsrs passes the guest's own through. */
    memset((void *)d->msrpm_pa, 0xFF, SVM_MSRPM_FRAMES * MM_PAGE_SIZE);
    return 0;
}

static void svm_domain_free(struct domain *d)
{
    if (d->msrpm_pa)
        mm_frames_free(d->msrpm_pa, SVM_MSRPM_FRAMES);
    d->iopm_pa = d->msrpm_pa = 0;
}

static void svm_domain_npt_changed(struct domain *d)
{
    for (struct vcpu *v = d->vcpus; v; v = v->next) {
        ((struct vmcb *)v->hw)->n_cr3 = d->npt_root;
        v->hw_dirty |= SVM_CLEAN_NP;
        v->flush = 1;
        v->cc.valid = 0;
    }
}

/* Clears the MSRPM's read and/or write intercept for msr (2 bits per MSR in three
 * 8 KiB-MSR ranges; MSRs outside them always exit). */
static void msrpm_allow(uint8_t *pm, uint32_t msr, int read, int write)
{
    uint32_t index;
    if (msr <= 0x1FFF)
        index = msr;
    else if (msr - 0xC0000000u <= 0x1FFF)
        index = 0x2000 + (msr - 0xC0000000u);
    else if (msr - 0xC0010000u <= 0x1FFF)
        index = 0x4000 + (msr - 0xC0010000u);
    else
        return;
    uint32_t bit = index * 2;
    if (read)
        pm[bit / 8] &= (uint8_t)~(1u << (bit % 8));
    if (write)
        pm[bit / 8] &= (uint8_t)~(2u << (bit % 8));
}

static void svm_domain_msrs_changed(struct domain *d)
{
    uint8_t *pm = (uint8_t *)d->msrpm_pa;
    memset(pm, 0xFF, SVM_MSRPM_FRAMES * MM_PAGE_SIZE);
    for (uint32_t i = 0; i < d->nmsrs; i++) {
        const struct msr_entry *e = &d->msrs[i];
        if (e->action != MSR_ACT_OWN)
            continue;
        /* EFER and PAT stay intercepted and are emulated in svm_own_msr: EFER hides
         * SVME and guards LME, and with nested paging the guest's PAT is G_PAT, which
         * must hold valid memory types. The TSC MSR stays intercepted both ways: a
         * write would set the host's TSC (it becomes an offset), and QEMU's TCG answers
         * RDMSR 0x10 with 0 even though RDTSC counts, so reads are answered from RDTSC
         * plus the offset (RDTSC itself is never intercepted). */
        if (e->msr == MSR_EFER || e->msr == MSR_PAT || e->msr == MSR_TSC)
            continue;
        msrpm_allow(pm, e->msr, 1, 1);
    }
}

/* ---- vCPUs ---- */

static int svm_vcpu_init(struct vcpu *v)
{
    uint64_t pa = mm_frames_alloc(1);
    if (!pa)
        return -1;
    struct vmcb *vm = (struct vmcb *)pa;
    /* #UD: a VMCALL (Intel's hypercall instruction) on AMD raises #UD; we emulate it. */
    vm->icpt_exc = 1u << 6;
    vm->icpt1 = SVM_I1_INTR | SVM_I1_NMI | SVM_I1_RDPMC | SVM_I1_CPUID | SVM_I1_INVD |
                SVM_I1_HLT | SVM_I1_INVLPGA | SVM_I1_IOIO | SVM_I1_MSR | SVM_I1_SHUTDOWN;
    /* VMRUN must be intercepted (VMRUN refuses otherwise). The other SVM instructions
     * and MONITOR/MWAIT get #UD: the guest has no nested SVM, and MWAIT would idle the
     * physical CPU. XSETBV: XCR0 is not switched by VMRUN, so it is emulated. RDTSC and
     * RDTSCP are not intercepted: the TSC offset virtualises them, and TCG reports an
     * RDTSCP exit with RDTSC's code, which would mis-step a guest. */
    vm->icpt2 = SVM_I2_VMRUN | SVM_I2_VMMCALL | SVM_I2_VMLOAD | SVM_I2_VMSAVE |
                SVM_I2_STGI | SVM_I2_CLGI | SVM_I2_SKINIT | SVM_I2_MONITOR | SVM_I2_MWAIT |
                SVM_I2_MWAIT_C | SVM_I2_XSETBV;
    vm->iopm_pa = v->d->iopm_pa;
    vm->msrpm_pa = v->d->msrpm_pa;
    /* V_INTR_MASKING: the guest's IF masks only virtual interrupts; the host's IF
     * (set by svm_entry.S) governs physical ones, which then exit with INTR. */
    vm->int_ctl = SVM_V_INTR_MASKING;
    vm->np_enable = 1;
    vm->n_cr3 = v->d->npt_root;
    v->hw = vm;
    v->hw_pa = pa;
    v->hw_dirty = SVM_CLEAN_ALL;
    v->asid_gen = 0;
    return 0;
}

static void svm_vcpu_free(struct vcpu *v)
{
    if (v->hw_pa)
        mm_frames_free(v->hw_pa, 1);
    v->hw = NULL;
    v->hw_pa = 0;
}

static const uint8_t abi_to_svm_type[5] = {0, SVM_EV_TYPE_INTR, SVM_EV_TYPE_NMI, SVM_EV_TYPE_EXC,
                                           SVM_EV_TYPE_SOFT};
static const uint8_t svm_to_abi_type[8] = {ZZ_INJECT_EXT, 0, ZZ_INJECT_NMI, ZZ_INJECT_EXC,
                                           ZZ_INJECT_SOFT, 0, 0, 0};

static void svm_new_asid(struct vcpu *v, struct vmcb *vm)
{
    if (asid_next >= caps.asids) {
        asid_gen++;
        asid_next = 1;
        asid_flush_all = 1;
    }
    v->asid = asid_next++;
    v->asid_gen = asid_gen;
    vm->asid = v->asid;
    v->hw_dirty |= SVM_CLEAN_ASID;
}

/* Turns the VMCB's exit fields into the vendor-neutral exit record. */
static void svm_decode_exit(struct vcpu *v, const struct vmcb *vm)
{
    struct vexit *x = &v->exit;
    uint64_t info1 = vm->exit_info1, intinfo = vm->exit_int_info;
    uint32_t code = (uint32_t)vm->exit_code;

    x->raw_code = vm->exit_code;
    x->next_rip = 0;
    x->insn_count = 0;
    x->pending.type = 0;
    if (intinfo & SVM_EV_VALID) {
        x->pending.type = svm_to_abi_type[(intinfo >> 8) & 7];
        x->pending.vector = intinfo & 0xFF;
        x->pending.has_error = (intinfo & SVM_EV_HAS_ERROR) != 0;
        x->pending.error = (uint32_t)(intinfo >> 32);
    }
    /* next_rip is only meaningful for instruction intercepts, and only with NRIPS. */
    uint64_t nrip = caps.nrips ? vm->next_rip : 0;

    switch (code) {
    case SVM_EXIT_CPUID:   x->reason = VX_CPUID; x->next_rip = nrip; break;
    case SVM_EXIT_HLT:     x->reason = VX_HLT; x->next_rip = nrip; break;
    case SVM_EXIT_VMMCALL: x->reason = VX_VMMCALL; x->next_rip = nrip; break;
    case SVM_EXIT_INTR:    x->reason = VX_INTR; break;
    case SVM_EXIT_NMI:     x->reason = VX_NMI; break;
    case SVM_EXIT_VINTR:   x->reason = VX_IRQ_WINDOW; break;
    case SVM_EXIT_MSR:
        x->reason = VX_MSR;
        x->msr_write = info1 & 1;
        x->next_rip = nrip;
        break;
    case SVM_EXIT_IOIO:
        /* EXITINFO1: bit 0 IN, 2 string, 3 REP, 4-6 size 1/2/4, 7-9 address size
         * 16/32/64, 16-31 port. EXITINFO2 is the next RIP even without NRIPS. */
        x->reason = VX_IO;
        x->io_in = info1 & 1;
        x->io_string = (info1 >> 2) & 1;
        x->io_rep = (info1 >> 3) & 1;
        x->io_size = (info1 & 0x10) ? 1 : (info1 & 0x20) ? 2 : 4;
        x->io_asize = (info1 & 0x80) ? 2 : (info1 & 0x100) ? 4 : 8;
        x->io_port = (uint32_t)(info1 >> 16) & 0xFFFF;
        x->next_rip = vm->exit_info2;
        break;
    case SVM_EXIT_NPF:
        /* EXITINFO1 is a page-fault error code plus bit 32 (final translation) and
         * bit 33 (while walking the guest's page tables); EXITINFO2 the GPA. */
        x->reason = VX_NPF;
        x->gpa = vm->exit_info2;
        x->npf_error = info1;
        x->npf_write = (info1 >> 1) & 1;
        x->npf_fetch = (info1 >> 4) & 1;
        x->npf_walk = (info1 >> 33) & 1;
        if (caps.decode_assists && vm->insn_count <= 15) {
            x->insn_count = vm->insn_count;
            for (uint32_t i = 0; i < x->insn_count; i++)
                x->insn_bytes[i] = vm->insn_bytes[i];
        }
        break;
    case SVM_EXIT_SHUTDOWN: x->reason = VX_SHUTDOWN; break;
    case SVM_EXIT_XSETBV:   x->reason = VX_XSETBV; x->next_rip = nrip; break;
    case SVM_EXIT_RDPMC:    x->reason = VX_RDPMC; break;
    case SVM_EXIT_INVD:     x->reason = VX_INVD; x->next_rip = nrip; break;
    case SVM_EXIT_VMRUN: case SVM_EXIT_VMLOAD: case SVM_EXIT_VMSAVE: case SVM_EXIT_STGI:
    case SVM_EXIT_CLGI: case SVM_EXIT_SKINIT: case SVM_EXIT_INVLPGA: case SVM_EXIT_MONITOR:
    case SVM_EXIT_MWAIT: case SVM_EXIT_MWAIT_C:
        x->reason = VX_UD_INSN;
        break;
    case 0xFFFFFFFFu:
        /* VMEXIT_INVALID is -1; TCG writes only the low 32 bits of it. */
        x->reason = VX_INVALID;
        break;
    default:
        if (code >= SVM_EXIT_EXC_BASE && code < SVM_EXIT_EXC_BASE + 32) {
            x->reason = VX_EXCEPTION;
            x->vector = code - SVM_EXIT_EXC_BASE;
        } else {
            x->reason = VX_OTHER;
        }
        break;
    }
}

static void svm_run_begin(struct vcpu *v)
{
    (void)v;
    __asm__ volatile("vmsave %%rax" : : "a"(host_vmsave) : "memory");
}

static void svm_enter(struct vcpu *v)
{
    struct vmcb *vm = v->hw;
    struct zz_vcpu_state *st = v->st;

    vm->rax = st->gpr[GPR_RAX];
    vm->rip = st->rip;
    if (v->ctl_dirty) {
        vm->int_state = v->g.shadow;
        v->ctl_dirty = 0;
    }
    if (v->inject.type) {
        const struct vevent *e = &v->inject;
        vm->event_inj = e->vector | ((uint64_t)abi_to_svm_type[e->type] << 8) |
                        (e->has_error ? SVM_EV_HAS_ERROR : 0) | SVM_EV_VALID |
                        ((uint64_t)e->error << 32);
    }
    if (v->want_window != v->hw_window) {
        /* A virtual interrupt that ignores the TPR at top priority, with VINTR
         * intercepted: the guest exits as soon as it could take an interrupt. */
        if (v->want_window) {
            vm->int_ctl |= SVM_V_IRQ | SVM_V_IGN_TPR | SVM_V_INTR_PRIO(15);
            vm->icpt1 |= SVM_I1_VINTR;
        } else {
            vm->int_ctl &= ~(SVM_V_IRQ | SVM_V_IGN_TPR | SVM_V_INTR_PRIO(15));
            vm->icpt1 &= ~SVM_I1_VINTR;
        }
        v->hw_window = v->want_window;
        v->hw_dirty |= SVM_CLEAN_TPR | SVM_CLEAN_I;
    }
    if (v->asid_gen != asid_gen)
        svm_new_asid(v, vm);
    if (v->hw_pa != last_vmcb_pa) {
        last_vmcb_pa = v->hw_pa;
        v->hw_dirty = SVM_CLEAN_ALL;
    }
    if (asid_flush_all | v->flush | v->hw_dirty) {
        /* TLB_CONTROL 1 flushes every ASID; 3 only this guest's, where supported. TCG
         * does not need flushes after NPT changes but hardware does. */
        if (asid_flush_all) {
            vm->tlb_control = 1;
            asid_flush_all = 0;
        } else if (v->flush) {
            vm->tlb_control = caps.flush_by_asid ? 3 : 1;
        }
        v->flush = 0;
        if (caps.vmcb_clean)
            vm->clean = ~v->hw_dirty & SVM_CLEAN_ALL;
        v->hw_dirty = 0;
    } else if (caps.vmcb_clean) {
        vm->clean = SVM_CLEAN_ALL;
    }

    svm_world_switch(st->gpr, v->hw_pa, host_vmsave);

    if (vm->tlb_control | v->inject.type) {
        vm->tlb_control = 0;
        vm->event_inj = 0;
    }
    svm_decode_exit(v, vm);
    if (v->exit.reason == VX_INVALID)
        return;
    st->gpr[GPR_RAX] = vm->rax;
    st->rip = vm->rip;
    st->rflags = vm->rflags;
    svm_guest_refresh(v, vm);
}

const struct virt_ops svm_ops = {
    .name = "svm",
    .domain_init = svm_domain_init,
    .domain_free = svm_domain_free,
    .domain_npt_changed = svm_domain_npt_changed,
    .vcpu_init = svm_vcpu_init,
    .vcpu_free = svm_vcpu_free,
    .domain_msrs_changed = svm_domain_msrs_changed,
    .load_state = svm_load_state,
    .save_state = svm_save_state,
    .run_begin = svm_run_begin,
    .enter = svm_enter,
    .own_msr = svm_own_msr,
    .dump = svm_dump,
};

