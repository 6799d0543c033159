/* vCPUs: capabilities, creation, the run loop, event delivery and the lazy FPU switch. */
/* The guest's FPU/SSE/AVX state stays loaded for the whole run loop and is switched
 * back only when the run returns to TypeScript (the engine uses SSE), so nothing in
 * this file may use SSE registers. */
#pragma GCC target("general-regs-only")
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "console.h"
#include "cpu.h"
#include "exit.h"
#include "klog.h"
#include "mm.h"
#include "svm.h"
#include "timer.h"
#include "vcpu.h"
#include "x86.h"

#define FPU_ALIGN 64

const struct virt_ops *virt;

static struct virt_caps caps;
static int caps_done;
static struct vcpu *vcpus[VCPU_MAX_VCPUS];
static uint32_t vcpu_gen[VCPU_MAX_VCPUS];
static char error_text[160];

/* ---- errors ---- */

int vcpu_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(error_text, sizeof(error_text), fmt, ap);
    va_end(ap);
    return code;
}

const char *vcpu_error(void)
{
    return error_text;
}

/* ---- FPU/SSE/AVX state ---- */

static int fpu_xsave;       /* the host turned XSAVE on (CR4.OSXSAVE): else FXSAVE */
static uint64_t host_xcr0;
static uint32_t fpu_size;   /* bytes of one save image: the largest XSAVE layout */
static uint8_t *host_fpu;   /* the engine's state while a guest's is loaded */

static inline uint64_t xgetbv0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static inline void xsetbv0(uint64_t x)
{
    __asm__ volatile("xsetbv" : : "c"(0), "a"((uint32_t)x), "d"((uint32_t)(x >> 32)));
}

static inline void fpu_save(uint8_t *area, uint64_t mask)
{
    if (fpu_xsave)
        __asm__ volatile("xsave64 (%0)" : : "r"(area), "a"((uint32_t)mask),
                         "d"((uint32_t)(mask >> 32)) : "memory");
    else
        __asm__ volatile("fxsave64 (%0)" : : "r"(area) : "memory");
}

static inline void fpu_restore(const uint8_t *area, uint64_t mask)
{
    if (fpu_xsave)
        __asm__ volatile("xrstor64 (%0)" : : "r"(area), "a"((uint32_t)mask),
                         "d"((uint32_t)(mask >> 32)) : "memory");
    else
        __asm__ volatile("fxrstor64 (%0)" : : "r"(area) : "memory");
}

/* Sizes the save images and allocates the host's; 0, or -1 when out of memory. */
static int fpu_setup(void)
{
    uint32_t r[4];
    fpu_xsave = (x86_read_cr4() & CR4_OSXSAVE) != 0;
    fpu_size = 512;
    if (fpu_xsave) {
        host_xcr0 = xgetbv0();
        cpu_cpuid(0xD, 0, r);
        /* ECX: the size for every component the CPU supports, so a guest that turns
         * on more than the host (TCG lets XSETBV through without an exit) still fits. */
        if (r[2] > fpu_size)
            fpu_size = r[2];
    }
    host_fpu = (uint8_t *)mm_frames_alloc((fpu_size + MM_PAGE_SIZE - 1) / MM_PAGE_SIZE);
    return host_fpu ? 0 : -1;
}

/*
 * XSAVE and XRSTOR only touch components enabled in XCR0, and a guest may well run with
 * a smaller XCR0 than the host's (XCR0 = 1 at reset) while using SSE, so the guest's
 * image is saved and loaded under the union of both XCR0 values; the guest's own XCR0
 * is on the CPU only while the guest runs (VMRUN does not switch it).
 */

/* Puts the guest's extended state on the CPU (XCR0 included) and the host's aside. */
static void fpu_to_guest(struct vcpu *v)
{
    uint64_t gx = v->st->xcr0, all = host_xcr0 | gx;
    fpu_save(host_fpu, host_xcr0);
    if (fpu_xsave && all != host_xcr0)
        xsetbv0(all);
    fpu_restore(v->fpu, all);
    if (fpu_xsave && gx != all)
        xsetbv0(gx);
}

/* Saves the guest's extended state (and its XCR0, which the guest may have changed:
 * TCG lets XSETBV through without an exit) and puts the host's back. */
static void fpu_to_host(struct vcpu *v)
{
    uint64_t gx = 1, all = host_xcr0;
    if (fpu_xsave) {
        gx = xgetbv0();
        v->st->xcr0 = gx;
        all |= gx;
        if (gx != all)
            xsetbv0(all);
    }
    fpu_save(v->fpu, all);
    if (fpu_xsave && all != host_xcr0)
        xsetbv0(host_xcr0);
    fpu_restore(host_fpu, host_xcr0);
}

/* Lets a pending host interrupt in, on the host's IST stack: the interrupt
 * stubs save extended state with the host's XCR0 layout in mind, so switch to it. */
static inline void irq_window(void)
{
    if (fpu_xsave) {
        uint64_t gx = xgetbv0();
        if (gx != host_xcr0) {
            xsetbv0(host_xcr0);
            __asm__ volatile("sti; nop; cli" : : : "memory");
            xsetbv0(gx);
            return;
        }
    }
    __asm__ volatile("sti; nop; cli" : : : "memory");
}

uint64_t vcpu_host_xcr0(void)
{
    return fpu_xsave ? host_xcr0 : 1;
}

int vcpu_xcr0_valid(const struct domain *d, uint64_t x)
{
    /* x87 always on, AVX only with SSE, AVX-512's three parts together and only with
     * AVX, and nothing beyond what the host enabled and the CPUID policy offers. */
    if (!fpu_xsave)
        return x == 1;
    return (x & 1) && !((x & 4) && !(x & 2)) && !((x & 0xE0) && ((x & 0xE0) != 0xE0 || !(x & 4))) &&
           !(x & ~d->xcr0_allowed);
}

/* ---- capabilities ---- */

const struct virt_caps *vcpu_caps(void)
{
    uint32_t r[4];
    char vendor[13];

    if (caps_done)
        return &caps;
    caps_done = 1;
    cpu_cpuid(0, 0, r);
    memcpy(vendor, &r[1], 4);
    memcpy(vendor + 4, &r[3], 4);
    memcpy(vendor + 8, &r[2], 4);
    vendor[12] = 0;
    int intel = strcmp(vendor, "GenuineIntel") == 0;
    /* Hygon's Dhyana is an AMD design with SVM. */
    caps.vendor = intel ? "intel" : (!strcmp(vendor, "AuthenticAMD") || !strcmp(vendor, "HygonGenuine"))
                                      ? "amd" : "other";
    caps.reason = "";
    if (intel)
        vmx_detect(&caps);
    else
        svm_detect(&caps);
    if (!caps.usable) {
        klog("virt: %s CPU, guests cannot run: %s\n", vendor, caps.reason);
        return &caps;
    }
    if (fpu_setup() < 0 || svm_enable(&caps) < 0) {
        caps.usable = 0;
        caps.reason = "out of memory while enabling SVM";
        return &caps;
    }
    virt = &svm_ops;
    klog("virt: SVM rev %u, %u ASIDs, NPT%s%s%s%s; guest FPU image %u bytes (%s)\n",
         caps.revision, caps.asids, caps.nrips ? ", NRIPS" : "",
         caps.decode_assists ? ", decode assists" : "", caps.vmcb_clean ? ", VMCB clean" : "",
         caps.flush_by_asid ? ", flush by ASID" : "", fpu_size, fpu_xsave ? "XSAVE" : "FXSAVE");
    return &caps;
}

/* ---- handles ---- */

struct vcpu *vcpu_lookup(uint32_t handle)
{
    uint32_t slot = handle & 0xFF;
    struct vcpu *v = slot < VCPU_MAX_VCPUS ? vcpus[slot] : 0;
    return v && v->handle == handle ? v : 0;
}

/* ---- vCPUs ---- */

/* The architectural reset state (real mode at F000:FFF0), every field dirty. */
static void state_reset(struct zz_vcpu_state *st)
{
    memset(st, 0, sizeof(*st));
    st->rip = 0xFFF0;
    st->rflags = 2;
    st->cr0 = 0x60000010;
    st->xcr0 = 1;
    for (int i = 0; i < 6; i++)
        st->seg[i] = (struct zz_seg){0, 0x93, 0xFFFF, 0};
    st->seg[SEG_CS] = (struct zz_seg){0xF000, 0x9B, 0xFFFF, 0xFFFF0000};
    st->seg[SEG_LDTR] = (struct zz_seg){0, 0x82, 0xFFFF, 0};
    st->seg[SEG_TR] = (struct zz_seg){0, 0x8B, 0xFFFF, 0};
    st->gdtr.limit = st->idtr.limit = 0xFFFF;
    st->pat = 0x0007040600070406ull;
    st->dr6 = 0xFFFF0FF0;
    st->dr7 = 0x400;
    st->dirty = ZZ_DIRTY_ALL;
}

int64_t vcpu_create(uint32_t domain_handle, uint32_t vcpu_id, uint64_t *state_pa)
{
    struct domain *d = domain_lookup(domain_handle);
    uint32_t slot;
    if (!d)
        return vcpu_fail(VCPU_EINVAL, "no domain with handle %u", domain_handle);
    if (vcpu_id >= VCPU_MAX_VCPUS)
        return vcpu_fail(VCPU_EINVAL, "vCPU id %u is out of range (0..%d)", vcpu_id, VCPU_MAX_VCPUS - 1);
    for (struct vcpu *o = d->vcpus; o; o = o->next)
        if (o->id == vcpu_id)
            return vcpu_fail(VCPU_EINVAL, "domain %u already has vCPU %u", d->domid, vcpu_id);
    for (slot = 0; slot < VCPU_MAX_VCPUS && vcpus[slot]; slot++)
        ;
    if (slot == VCPU_MAX_VCPUS)
        return vcpu_fail(VCPU_ENOMEM, "too many vCPUs (at most %d)", VCPU_MAX_VCPUS);

    /* One allocation holds struct vcpu and, 64-byte aligned after it, the FPU image. */
    uint64_t fpu_off = (sizeof(struct vcpu) + FPU_ALIGN - 1) & ~(uint64_t)(FPU_ALIGN - 1);
    uint64_t frames = (fpu_off + fpu_size + MM_PAGE_SIZE - 1) / MM_PAGE_SIZE;
    uint64_t pa = mm_frames_alloc(frames), st_pa = mm_frames_alloc(1);
    struct vcpu *v = (struct vcpu *)pa;
    if (!pa || !st_pa) {
        if (pa)
            mm_frames_free(pa, frames);
        if (st_pa)
            mm_frames_free(st_pa, 1);
        return vcpu_fail(VCPU_ENOMEM, "out of memory creating vCPU %u", vcpu_id);
    }
    v->self_pa = pa;
    v->self_frames = frames;
    v->id = vcpu_id;
    v->d = d;
    v->st = (struct zz_vcpu_state *)st_pa;
    v->st_pa = st_pa;
    v->fpu = (uint8_t *)(pa + fpu_off);
    if (virt->vcpu_init(v) < 0) {
        mm_frames_free(pa, frames);
        mm_frames_free(st_pa, 1);
        return vcpu_fail(VCPU_ENOMEM, "out of memory creating vCPU %u", vcpu_id);
    }
    /* Reset FPU state: XSTATE_BV 0 (all components in their init state), but XRSTOR
     * takes MXCSR from the image regardless, so it needs its reset value too. */
    *(uint16_t *)v->fpu = 0x037F;
    *(uint32_t *)(v->fpu + 24) = 0x1F80;
    state_reset(v->st);
    for (uint32_t i = 0; i < d->nmsrs; i++)
        if (d->msrs[i].action == MSR_ACT_VCPU)
            v->msr_vals[d->msrs[i].slot] = d->msrs[i].value;
    v->next = d->vcpus;
    d->vcpus = v;
    v->handle = (++vcpu_gen[slot] << 8) | slot;
    vcpus[slot] = v;
    *state_pa = st_pa;
    return v->handle;
}

int vcpu_destroy(uint32_t handle)
{
    struct vcpu *v = vcpu_lookup(handle);
    if (!v)
        return vcpu_fail(VCPU_EINVAL, "no vCPU with handle %u", handle);
    for (struct vcpu **p = &v->d->vcpus; *p; p = &(*p)->next)
        if (*p == v) {
            *p = v->next;
            break;
        }
    vcpus[handle & 0xFF] = 0;
    virt->vcpu_free(v);
    mm_frames_free(v->st_pa, 1);
    v->handle = 0;
    mm_frames_free(v->self_pa, v->self_frames);
    return 0;
}

/* ---- running ---- */

/* Checks and takes the injection TypeScript asked for in the state page. */
static int take_injection(struct vcpu *v)
{
    struct zz_vcpu_state *st = v->st;
    struct vevent e = {st->inject_type, st->inject_vector, st->inject_has_error, st->inject_error};
    if (!e.type)
        return 0;
    if (e.type > ZZ_INJECT_SOFT || e.has_error > 1 || e.vector > 255 ||
        (e.has_error && e.type != ZZ_INJECT_EXC) ||
        (e.type == ZZ_INJECT_EXC && (e.vector >= 31 || e.vector == 2)) ||
        (e.type == ZZ_INJECT_EXT && e.vector < 16))
        return vcpu_fail(VCPU_EINVAL, "state: cannot inject type %u vector %u (error %u)", e.type,
                    e.vector, e.has_error);
    if (e.type == ZZ_INJECT_NMI)
        e.vector = 2;
    if (e.type == ZZ_INJECT_EXT) {
        if (v->pending.type)
            return vcpu_fail(VCPU_EINVAL, "state: an interrupt is still pending (vector %u)",
                        v->pending.vector);
        v->pending = e;
    } else {
        v->exc = e;
    }
    st->inject_type = 0;
    return 0;
}

/* Hands undelivered events back to the state page (the exception first). */
static void give_back_injection(struct vcpu *v)
{
    struct zz_vcpu_state *st = v->st;
    struct vevent *e = v->exc.type ? &v->exc : v->pending.type ? &v->pending : 0;
    if (!e)
        return;
    st->inject_type = e->type;
    st->inject_vector = e->vector;
    st->inject_has_error = e->has_error;
    st->inject_error = e->error;
    e->type = 0;
}

/* Picks what to inject at this entry, and whether to ask for an interrupt window
 * (called only when something is or was pending). */
static void events_prepare(struct vcpu *v)
{
    uint32_t from = 0;
    if (v->exc.type) {
        v->inject = v->exc;
        v->exc.type = 0;
        from = 2;
    } else if (v->pending.type && (v->pending.type != ZZ_INJECT_EXT ||
                                   ((v->st->rflags & RFLAGS_IF) && !v->g.shadow))) {
        v->inject = v->pending;
        v->pending.type = 0;
        from = 1;
    } else {
        v->inject.type = 0;
    }
    v->injected_from = from;
    v->want_window = v->pending.type == ZZ_INJECT_EXT || v->st->irq_window_wanted;
}

/* An exit interrupted an event's delivery: queue it again, unless it was the guest's
 * own INTn/INT3/INTO, which simply runs again from the same RIP. */
static void events_requeue(struct vcpu *v)
{
    const struct vevent *e = &v->exit.pending;
    if (v->injected_from && e->type == v->inject.type && e->vector == v->inject.vector) {
        if (v->injected_from == 1)
            v->pending = *e;
        else
            v->exc = *e;
        return;
    }
    if (e->type == ZZ_INJECT_SOFT || (e->type == ZZ_INJECT_EXC && (e->vector == 3 || e->vector == 4)))
        return;
    v->exc = *e;
}

/* Converts a monotonic-ns deadline into a TSC value (saturating). */
static uint64_t deadline_tsc(uint64_t deadline_ns)
{
    uint64_t now_ns = timer_monotonic_ns(), now = x86_rdtsc(), hz = timer_tsc_hz();
    if (deadline_ns == UINT64_MAX || hz == 0)
        return UINT64_MAX;
    if (deadline_ns <= now_ns)
        return now;
    unsigned __int128 delta = (unsigned __int128)(deadline_ns - now_ns) * hz / 1000000000u;
    return delta >= UINT64_MAX - now ? UINT64_MAX : now + (uint64_t)delta;
}

int vcpu_run(uint32_t handle, uint64_t deadline_ns)
{
    struct vcpu *v = vcpu_lookup(handle);
    struct zz_vcpu_state *st;
    int r;

    if (!v)
        return vcpu_fail(VCPU_EINVAL, "no vCPU with handle %u (destroyed, or its domain was)", handle);
    st = v->st;
    if (!v->d->npt_root)
        return vcpu_fail(VCPU_EINVAL, "domain %u has no nested page table (domainSetNpt)", v->d->domid);
    if (st->dirty & ~(uint64_t)ZZ_DIRTY_ALL)
        return vcpu_fail(VCPU_EINVAL, "state: unknown dirty bits %#llx",
                    (unsigned long long)(st->dirty & ~(uint64_t)ZZ_DIRTY_ALL));
    if ((st->dirty & ZZ_DIRTY_CR) && !vcpu_xcr0_valid(v->d, st->xcr0))
        return vcpu_fail(VCPU_EINVAL, "state: xcr0 %#llx is not allowed (allowed %#llx)",
                    (unsigned long long)st->xcr0, (unsigned long long)v->d->xcr0_allowed);
    if ((r = take_injection(v)) < 0)
        return r;
    st->exit_reason = 0;
    st->insn_len = 0;
    st->exit_gpa = 0;
    st->exit_gla = 0;
    v->crash_why = 0;
    v->crash_nbytes = 0;
    if (v->fix.active) {
        /* Complete a narrow MMIO read: TypeScript wrote the value zero-extended. */
        uint64_t mask = (1ull << (8 * v->fix.size)) - 1, shift = v->fix.high ? 8 : 0;
        if (st->dirty & ZZ_DIRTY_GPR)
            st->gpr[v->fix.reg] = (v->fix.old & ~(mask << shift)) |
                                  ((st->gpr[v->fix.reg] & mask) << shift);
        v->fix.active = 0;
    }
    virt->load_state(v, st->dirty);
    st->dirty = 0;

    uint64_t flags = x86_irq_save();
    uint64_t deadline = deadline_tsc(deadline_ns);
    /* The LAPIC one-shot ends a guest that never exits at the deadline (an INTR exit). */
    int timed = deadline != UINT64_MAX;
    if (timed)
        timer_set_deadline(deadline_ns);
    fpu_to_guest(v);
    virt->run_begin(v);
    uint64_t t0 = x86_rdtsc(), exits = 0, last_fast = 1;
    v->timer_due_ns = 0;
    for (;;) {
        if (v->exc.type | v->pending.type | v->inject.type | v->want_window |
            st->irq_window_wanted)
            events_prepare(v);
        virt->enter(v);
        exits++;
        st->stat_kind[v->exit.reason < ZZ_KIND_COUNT ? v->exit.reason : ZZ_KIND_OTHER]++;
        if (v->exit.pending.type)
            events_requeue(v);
        /* CPUID, the commonest exit, inline; the rest in exit.c. */
        r = v->exit.reason == VX_CPUID ? exit_cpuid(v) : exit_handle(v);
        if (r) {
            last_fast = 0;
            break;
        }
        /* The guest armed its single-shot timer (exit_singleshot): end the run by then. */
        if (v->timer_due_ns) {
            if (v->timer_due_ns < deadline_ns) {
                deadline_ns = v->timer_due_ns;
                deadline = deadline_tsc(deadline_ns);
                timed = 1;
                timer_set_deadline(deadline_ns);
            }
            v->timer_due_ns = 0;
        }
        /* The timer interrupt ends the slice; the clock is still read every 64 exits
         * for machines whose LAPIC timer could not be calibrated. */
        if (!(exits & 63) && x86_rdtsc() >= deadline) {
            r = ZZ_RUN_PREEMPT;
            break;
        }
        if (v->exit.reason == VX_INTR) {
            /* Physical interrupts end the guest with an INTR exit and wait: take them
             * now, on the host's interrupt stack. */
            irq_window();
            if (timed && x86_rdtsc() >= deadline) {
                r = ZZ_RUN_PREEMPT;
                break;
            }
            /* The serial receive interrupt: let the REPL run. */
            if (console_input_pending()) {
                r = ZZ_RUN_HOST;
                break;
            }
            /* The one-shot may have fired early (its counter is 32 bits): re-arm. */
            if (timed)
                timer_set_deadline(deadline_ns);
        }
    }
    /* Every exit but the last was handled in C; the last too unless it ended the run. */
    st->stat_exits += exits;
    st->stat_fast_exits += exits - 1 + last_fast;
    uint64_t ticks = x86_rdtsc() - t0;
    if (timed)
        timer_set_deadline(UINT64_MAX);
    fpu_to_host(v);
    virt->save_state(v);
    /* After a refused VMRUN the control block holds no guest state worth keeping: the
     * state page (untouched) is loaded whole next time. */
    if (v->exit.reason == VX_INVALID)
        st->dirty = ZZ_DIRTY_ALL;
    give_back_injection(v);
    st->run_result = (uint32_t)r;
    if (r == ZZ_RUN_EXIT)
        st->stat_forwarded++;

    /* Time in the run loop: the guest, plus the fast exits handled on its behalf. */
    uint64_t hz = timer_tsc_hz();
    if (hz)
        st->stat_run_ns += (uint64_t)((unsigned __int128)ticks * 1000000000u / hz);
    x86_irq_restore(flags);
    if (r == ZZ_RUN_CRASH)
        exit_crash_report(v);
    return r;
}

