/* Vendor-neutral exit handling in C: CPUID, MSRs, ports, hypercalls, HLT, MMIO, crashes. */
/* Each fast exit is decode, handle, advance RIP, resume, without TypeScript. The
 * guest's FPU/SSE state is live meanwhile (vcpu.c), so no SSE code here. */
#pragma GCC target("general-regs-only")
#include <stdint.h>
#include "exit.h"
#include "klog.h"
#include "timer.h"

#define HC_XEN_VERSION 17
#define HC_SCHED_OP    29
#define XENVER_VERSION 0
#define SCHEDOP_YIELD  0
#define HC_EVENT_CHANNEL_OP 32
#define HC_VCPU_OP     24
#define VCPUOP_SET_SINGLESHOT_TIMER  8
#define VCPUOP_STOP_SINGLESHOT_TIMER 9
#define VCPU_SSHOTTMR_FUTURE 1u
#define EVTCHNOP_SEND  4
#define EPERM  1
#define ENOSYS 38

#define VEC_UD 6
#define VEC_GP 13

static const uint8_t OP_RDMSR[2] = {0x0F, 0x32};
static const uint8_t OP_WRMSR[2] = {0x0F, 0x30};
static const uint8_t OP_HLT[1] = {0xF4};
static const uint8_t OP_VMMCALL[3] = {0x0F, 0x01, 0xD9};
static const uint8_t OP_VMCALL[3] = {0x0F, 0x01, 0xC1};
static const uint8_t OP_XSETBV[3] = {0x0F, 0x01, 0xD1};
static const uint8_t OP_INVD[2] = {0x0F, 0x08};

#define SLOW __attribute__((noinline))

/* Records a crash: the run ends with ZZ_RUN_CRASH and vcpu.c logs why afterwards. */
static SLOW int crash(struct vcpu *v, uint32_t reason, uint64_t qual0, const char *why)
{
    v->st->exit_reason = reason;
    v->st->exit_qual[0] = qual0;
    v->crash_why = why;
    return ZZ_RUN_CRASH;
}

void exit_inject_exception(struct vcpu *v, uint32_t vector, int has_error, uint32_t error)
{
    v->exc.type = ZZ_INJECT_EXC;
    v->exc.vector = vector;
    v->exc.has_error = (uint32_t)has_error;
    v->exc.error = error;
}

int exit_skip_failed(struct vcpu *v)
{
    v->crash_nbytes = decode_fetch(v, v->crash_bytes, sizeof(v->crash_bytes));
    return crash(v, ZZ_EXIT_UNHANDLED, v->exit.raw_code,
                 "the instruction at RIP does not match its exit");
}

static const struct msr_entry *msr_find(const struct domain *d, uint32_t msr)
{
    uint32_t lo = 0, hi = d->nmsrs;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (d->msrs[mid].msr < msr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < d->nmsrs && d->msrs[lo].msr == msr ? &d->msrs[lo] : 0;
}

static SLOW int exit_msr(struct vcpu *v)
{
    struct zz_vcpu_state *st = v->st;
    uint32_t msr = (uint32_t)st->gpr[GPR_RCX];
    int write = (int)v->exit.msr_write;
    const uint8_t *op = write ? OP_WRMSR : OP_RDMSR;
    uint64_t value = (uint32_t)st->gpr[GPR_RAX] | ((uint64_t)(uint32_t)st->gpr[GPR_RDX] << 32);
    const struct msr_entry *e = msr_find(v->d, msr);

    if (!e) {
        /* Not in the policy: #GP, as Xen does for MSRs it does not know. */
        exit_inject_exception(v, VEC_GP, 1, 0);
        return 0;
    }
    switch (e->action) {
    case MSR_ACT_FIXED:
        if (!write)
            value = e->value;
        break;
    case MSR_ACT_VCPU:
        if (write)
            v->msr_vals[e->slot] = value;
        else
            value = v->msr_vals[e->slot];
        break;
    case MSR_ACT_OWN:
        if (virt->own_msr(v, msr, write, &value) < 0) {
            exit_inject_exception(v, VEC_GP, 1, 0);
            return 0;
        }
        break;
    default: {
        int r = exit_skip(v, op, 2);
        if (r)
            return r;
        st->exit_reason = ZZ_EXIT_MSR;
        st->exit_qual[0] = msr;
        st->exit_qual[1] = (uint64_t)write;
        st->exit_qual[2] = write ? value : 0;
        st->exit_qual[3] = 0;
        return ZZ_RUN_EXIT;
    }
    }
    if (!write) {
        st->gpr[GPR_RAX] = (uint32_t)value;
        st->gpr[GPR_RDX] = value >> 32;
    }
    return exit_skip(v, op, 2);
}

static int port_forwarded(const struct domain *d, uint32_t port)
{
    for (uint32_t i = 0; i < d->nports; i++)
        if (port >= d->ports[i].first && port <= d->ports[i].last)
            return 1;
    return 0;
}

/* Writes a register the way an instruction with address size asize would: 16-bit
 * writes keep the upper bits, 32-bit ones zero them. */
static void set_sized(uint64_t *reg, uint64_t value, uint32_t asize)
{
    if (asize == 2)
        *reg = (*reg & ~0xFFFFull) | (value & 0xFFFF);
    else if (asize == 4)
        *reg = (uint32_t)value;
    else
        *reg = value;
}

/* Moves RIP past an IN/OUT/INS/OUTS (IOIO exits always report the next RIP). */
static void io_done(struct vcpu *v)
{
    v->st->insn_len = (uint32_t)(v->exit.next_rip - v->st->rip);
    v->st->rip = v->exit.next_rip;
    if (v->g.shadow) {
        v->g.shadow = 0;
        v->ctl_dirty |= VCTL_SHADOW;
    }
}

static SLOW int exit_io(struct vcpu *v)
{
    struct zz_vcpu_state *st = v->st;
    const struct vexit *x = &v->exit;
    int fwd = port_forwarded(v->d, x->io_port);
    uint64_t mask = x->io_size == 4 ? 0xFFFFFFFFull : (1ull << (8 * x->io_size)) - 1;

    if (x->io_string) {
        if (!fwd && !x->io_in) {
            /* OUTS to nobody: drop the data, move RSI and RCX as the CPU would. */
            uint64_t amask = x->io_asize == 8 ? ~0ull : (1ull << (8 * x->io_asize)) - 1;
            uint64_t count = x->io_rep ? st->gpr[GPR_RCX] & amask : 1;
            uint64_t delta = count * x->io_size;
            uint64_t rsi = (st->rflags & RFLAGS_DF) ? st->gpr[GPR_RSI] - delta
                                                    : st->gpr[GPR_RSI] + delta;
            set_sized(&st->gpr[GPR_RSI], rsi, x->io_asize);
            if (x->io_rep)
                set_sized(&st->gpr[GPR_RCX], 0, x->io_asize);
            io_done(v);
            return 0;
        }
        /* INS/OUTS to a forwarded port, or INS from nobody: TypeScript emulates them. */
        st->exit_reason = ZZ_EXIT_IO;
        st->exit_qual[0] = x->io_port;
        st->exit_qual[1] = x->io_size;
        st->exit_qual[2] = x->io_in;
        st->exit_qual[3] = ~0ull;
        st->insn_len = (uint32_t)(x->next_rip - st->rip);
        return ZZ_RUN_EXIT;
    }
    io_done(v);
    if (v->d->pit.enabled && x->io_size == 1 && pit_port(x->io_port)) {
        if (x->io_in)
            st->gpr[GPR_RAX] = (st->gpr[GPR_RAX] & ~0xFFull) | pit_read(&v->d->pit, x->io_port);
        else
            pit_write(&v->d->pit, x->io_port, (uint8_t)st->gpr[GPR_RAX]);
        return 0;
    }
    if (!fwd) {
        /* Nothing there: reads float high, writes vanish (what Linux's probes expect). */
        if (x->io_in) {
            if (x->io_size == 4)
                st->gpr[GPR_RAX] = 0xFFFFFFFFu;
            else
                st->gpr[GPR_RAX] |= mask;
        }
        return 0;
    }
    st->exit_reason = ZZ_EXIT_IO;
    st->exit_qual[0] = x->io_port;
    st->exit_qual[1] = x->io_size;
    st->exit_qual[2] = x->io_in;
    st->exit_qual[3] = x->io_in ? 0 : st->gpr[GPR_RAX] & mask;
    return ZZ_RUN_EXIT;
}

/* Stores a hypercall's return value in RAX the way the guest's mode reads it. */
static void hcall_ret(struct zz_vcpu_state *st, int long64, int64_t value)
{
    st->gpr[GPR_RAX] = long64 ? (uint64_t)value : (uint32_t)value;
}

/* EVTCHNOP_send {u32 port} to a port TypeScript listed (a channel to one of zazen's own
 * backends): records it in deferred_sends and answers 0, without leaving the guest. The
 * backend runs when the vCPU next stops (a halt, its timer, any forwarded exit), which
 * TypeScript handles first, so the guest sees its sends in order and no later than its
 * next wait. Linux notifies its console and XenStore rings on every write: this saves a
 * trip through TypeScript each time. 1 if taken, 0 to forward the call as usual. */
static int exit_defer_send(struct vcpu *v, int long64)
{
    struct zz_vcpu_state *st = v->st;
    const struct domain *d = v->d;
    uint64_t arg = long64 ? st->gpr[GPR_RSI] : (uint32_t)st->gpr[GPR_RCX];
    uint32_t port;
    if (!d->nsend_ports || decode_read_linear(v, arg, &port, sizeof(port)) < 0)
        return 0;
    for (uint32_t i = 0; i < d->nsend_ports; i++) {
        if (d->send_ports[i] == port) {
            st->deferred_sends |= 1ull << i;
            hcall_ret(st, long64, 0);
            return 1;
        }
    }
    return 0;
}

/* VCPUOP_set_singleshot_timer {u64 timeout_abs_ns; u32 flags} and VCPUOP_stop_singleshot_
 * timer for the calling vCPU: Linux re-arms its timer this way after nearly every tick, so
 * C keeps the deadline in the state page and shortens the run to it. A deadline in the
 * past with VCPU_SSHOTTMR_future, another vCPU, or an argument C cannot read goes to
 * TypeScript, which answers the error. 1 if taken, 0 to forward. */
static int exit_singleshot(struct vcpu *v, int long64, uint64_t cmd)
{
    struct zz_vcpu_state *st = v->st;
    uint64_t vcpuid = long64 ? st->gpr[GPR_RSI] : (uint32_t)st->gpr[GPR_RCX];
    uint64_t arg = long64 ? st->gpr[GPR_RDX] : (uint32_t)st->gpr[GPR_RDX];
    if (vcpuid != v->id)
        return 0;
    if (cmd == VCPUOP_STOP_SINGLESHOT_TIMER) {
        st->singleshot_ns = UINT64_MAX;
        hcall_ret(st, long64, 0);
        return 1;
    }
    if (cmd != VCPUOP_SET_SINGLESHOT_TIMER || st->timer_base_ns == 0)
        return 0;
    struct { uint64_t timeout; uint32_t flags, pad; } a;
    if (decode_read_linear(v, arg, &a, 12) < 0)
        return 0;
    uint64_t now = timer_monotonic_ns(), base = st->timer_base_ns;
    uint64_t sys_now = now > base ? now - base : 0;
    if ((a.flags & VCPU_SSHOTTMR_FUTURE) && a.timeout < sys_now)
        return 0;
    st->singleshot_ns = a.timeout;
    /* The run must end when it expires, so TypeScript raises VIRQ_TIMER in time. */
    uint64_t due = a.timeout > UINT64_MAX - base ? UINT64_MAX : base + a.timeout;
    if (due < now)
        due = now;
    v->timer_due_ns = due;
    hcall_ret(st, long64, 0);
    return 1;
}

static SLOW int exit_hypercall(struct vcpu *v, const uint8_t *op)
{
    struct zz_vcpu_state *st = v->st;
    int long64 = vcpu_long64(v);
    int r = exit_skip(v, op, 3);
    if (r)
        return r;
    st->stat_hypercalls++;
    if (v->g.cpl != 0) {
        hcall_ret(st, long64, -EPERM);
        return 0;
    }
    /* 64-bit: RAX number, RDI RSI RDX R10 R8 arguments; 32-bit: EAX, EBX ECX EDX ESI EDI. */
    uint64_t nr = long64 ? st->gpr[GPR_RAX] : (uint32_t)st->gpr[GPR_RAX];
    st->stat_hcall[nr < 63 ? nr : 63]++;
    const struct hcall_entry *h = nr < DOMAIN_HYPERCALLS ? &v->d->hcall[nr] : 0;
    if (!h || h->mode == HCALL_ENOSYS) {
        hcall_ret(st, long64, -ENOSYS);
        return 0;
    }
    if (h->mode == HCALL_FAST) {
        uint64_t sub = long64 ? st->gpr[GPR_RDI] : (uint32_t)st->gpr[GPR_RBX];
        if (nr == HC_XEN_VERSION && sub == XENVER_VERSION) {
            hcall_ret(st, long64, (int64_t)(uint64_t)h->data);
            return 0;
        }
        if (nr == HC_SCHED_OP && sub == SCHEDOP_YIELD) {
            hcall_ret(st, long64, 0);
            return ZZ_RUN_PREEMPT;
        }
        if (nr == HC_EVENT_CHANNEL_OP && sub == EVTCHNOP_SEND && exit_defer_send(v, long64))
            return 0;
        if (nr == HC_VCPU_OP && exit_singleshot(v, long64, sub))
            return 0;
    }
    st->exit_reason = ZZ_EXIT_HYPERCALL;
    st->exit_qual[0] = (uint64_t)long64;
    st->exit_qual[1] = st->exit_qual[2] = st->exit_qual[3] = 0;
    return ZZ_RUN_EXIT;
}

/* #UD: Linux on an AMD guest uses VMMCALL, but code written for Intel (or a kernel
 * that picked by another vendor string) executes VMCALL, which AMD CPUs reject with
 * #UD: treat exactly that instruction as a hypercall and reflect every other #UD. */
static SLOW int exit_exception(struct vcpu *v)
{
    if (v->exit.vector == VEC_UD) {
        if (decode_fixed_len(v, OP_VMCALL, 3))
            return exit_hypercall(v, OP_VMCALL);
        exit_inject_exception(v, VEC_UD, 0, 0);
        return 0;
    }
    return crash(v, ZZ_EXIT_UNHANDLED, v->exit.raw_code, "unexpected exception intercept");
}

static SLOW int exit_hlt(struct vcpu *v)
{
    int r = exit_skip(v, OP_HLT, 1);
    if (r)
        return r;
    /* Something to deliver now: inject it and go on instead of halting. */
    if (v->exc.type)
        return 0;
    if (v->pending.type && (v->pending.type != ZZ_INJECT_EXT || (v->st->rflags & RFLAGS_IF)))
        return 0;
    /* Blocked, with IF=1 until an event, or with IF=0 for good (Xen's view of a
     * poweroff-by-halt): TypeScript decides. */
    return ZZ_RUN_HALT;
}

static SLOW int exit_window(struct vcpu *v)
{
    if (v->pending.type == ZZ_INJECT_EXT)
        return 0; /* the next entry delivers it */
    if (v->st->irq_window_wanted) {
        v->st->irq_window_wanted = 0;
        v->st->exit_reason = ZZ_EXIT_IRQ_WINDOW;
        return ZZ_RUN_EXIT;
    }
    return 0;
}

static SLOW int exit_xsetbv(struct vcpu *v)
{
    struct zz_vcpu_state *st = v->st;
    uint64_t x = (uint32_t)st->gpr[GPR_RAX] | ((uint64_t)(uint32_t)st->gpr[GPR_RDX] << 32);

    if (!(v->g.cr4 & CR4_OSXSAVE)) {
        exit_inject_exception(v, VEC_UD, 0, 0);
        return 0;
    }
    if (v->g.cpl != 0 || (uint32_t)st->gpr[GPR_RCX] != 0 || !vcpu_xcr0_valid(v->d, x)) {
        exit_inject_exception(v, VEC_GP, 1, 0);
        return 0;
    }
    /* The guest's extended state is loaded, so its XCR0 goes straight to the CPU. */
    __asm__ volatile("xsetbv" : : "c"(0), "a"((uint32_t)x), "d"((uint32_t)(x >> 32)));
    return exit_skip(v, OP_XSETBV, 3);
}

static int mmio_range(const struct domain *d, uint64_t gpa)
{
    for (uint32_t i = 0; i < d->nmmio; i++)
        if (gpa >= d->mmio[i].base && gpa < d->mmio[i].end)
            return 1;
    return 0;
}

static SLOW int exit_npf(struct vcpu *v)
{
    struct zz_vcpu_state *st = v->st;
    const struct vexit *x = &v->exit;
    struct mmio_op op;

    st->exit_gpa = x->gpa;
    st->exit_gla = 0; /* SVM does not report the linear address */
    if (x->npf_walk || x->npf_fetch || !mmio_range(v->d, x->gpa))
        return crash(v, ZZ_EXIT_NPF, x->npf_error,
                     x->npf_walk ? "nested page fault while walking the guest's page tables"
                     : x->npf_fetch ? "nested page fault fetching an instruction"
                                    : "nested page fault outside RAM and MMIO");
    if (decode_mmio(v, &op, v->crash_bytes, &v->crash_nbytes) < 0 || op.write != x->npf_write) {
        st->exit_qual[1] = 1; /* in an MMIO range, but not an access we decode */
        return crash(v, ZZ_EXIT_NPF, x->npf_error, "MMIO access by an instruction not decoded");
    }
    st->insn_len = op.len;
    st->rip += op.len;
    if (!vcpu_long64(v))
        st->rip &= 0xFFFFFFFFu;
    if (v->g.shadow) {
        v->g.shadow = 0;
        v->ctl_dirty |= VCTL_SHADOW;
    }
    st->exit_reason = ZZ_EXIT_MMIO;
    st->exit_qual[0] = op.size;
    st->exit_qual[1] = op.write;
    st->exit_qual[2] = op.write ? op.value : 0;
    st->exit_qual[3] = op.write ? 0 : op.reg;
    if (!op.write && (op.dst_size < 4 || op.high)) {
        /* TypeScript writes the value zero-extended; the next run puts it into the low
         * 8/16 bits (or AH..BH) and restores the rest, as the MOV would have. */
        v->fix.active = 1;
        v->fix.reg = op.reg;
        v->fix.size = op.dst_size;
        v->fix.high = op.high;
        v->fix.old = st->gpr[op.reg];
    }
    return ZZ_RUN_EXIT;
}

int exit_handle(struct vcpu *v)
{
    switch (v->exit.reason) {
    case VX_CPUID:       return exit_cpuid(v);
    case VX_INTR:        return 0;
    case VX_NMI:         return 0;
    case VX_MSR:         return exit_msr(v);
    case VX_IO:          return exit_io(v);
    case VX_VMMCALL:     return exit_hypercall(v, OP_VMMCALL);
    case VX_HLT:         return exit_hlt(v);
    case VX_IRQ_WINDOW:  return exit_window(v);
    case VX_EXCEPTION:   return exit_exception(v);
    case VX_NPF:         return exit_npf(v);
    case VX_XSETBV:      return exit_xsetbv(v);
    case VX_INVD:        return exit_skip(v, OP_INVD, 2); /* caches stay coherent: a no-op */
    case VX_RDPMC:
        exit_inject_exception(v, VEC_GP, 1, 0); /* no virtual PMU */
        return 0;
    case VX_UD_INSN:
        exit_inject_exception(v, VEC_UD, 0, 0);
        return 0;
    case VX_SHUTDOWN:
        return crash(v, ZZ_EXIT_SHUTDOWN, 0, "triple fault");
    case VX_INVALID:
        return crash(v, ZZ_EXIT_INVALID, v->exit.raw_code, "VMRUN refused the guest state");
    default:
        return crash(v, ZZ_EXIT_UNHANDLED, v->exit.raw_code, "unexpected exit");
    }
}

void exit_crash_report(struct vcpu *v)
{
    const struct zz_vcpu_state *st = v->st;
    const uint64_t *r = st->gpr;

    klog("domain %u vcpu %u crashed: %s (exit %#llx, reason %u, qual %#llx, gpa %#llx)\n",
         v->d->domid, v->id, v->crash_why ? v->crash_why : "unknown",
         (unsigned long long)st->raw_exit_code, st->exit_reason,
         (unsigned long long)st->exit_qual[0], (unsigned long long)st->exit_gpa);
    klog("  rip %016llx rflags %016llx\n", (unsigned long long)st->rip,
         (unsigned long long)st->rflags);
    klog("  rax %016llx rcx %016llx rdx %016llx rbx %016llx\n", (unsigned long long)r[0],
         (unsigned long long)r[1], (unsigned long long)r[2], (unsigned long long)r[3]);
    klog("  rsp %016llx rbp %016llx rsi %016llx rdi %016llx\n", (unsigned long long)r[4],
         (unsigned long long)r[5], (unsigned long long)r[6], (unsigned long long)r[7]);
    klog("  r8  %016llx r9  %016llx r10 %016llx r11 %016llx\n", (unsigned long long)r[8],
         (unsigned long long)r[9], (unsigned long long)r[10], (unsigned long long)r[11]);
    klog("  r12 %016llx r13 %016llx r14 %016llx r15 %016llx\n", (unsigned long long)r[12],
         (unsigned long long)r[13], (unsigned long long)r[14], (unsigned long long)r[15]);
    if (v->crash_nbytes) {
        char hex[3 * 15 + 1];
        static const char digits[] = "0123456789abcdef";
        uint32_t n = v->crash_nbytes > 15 ? 15 : v->crash_nbytes;
        for (uint32_t i = 0; i < n; i++) {
            hex[3 * i] = digits[v->crash_bytes[i] >> 4];
            hex[3 * i + 1] = digits[v->crash_bytes[i] & 15];
            hex[3 * i + 2] = ' ';
        }
        hex[3 * n] = 0;
        klog("  bytes at rip: %s\n", hex);
    }
    virt->dump(v);
}
