/* Vendor-neutral VM exit handling in C (exit.c) and guest instruction decoding (decode.c). */
#ifndef ZAZEN_EXIT_H
#define ZAZEN_EXIT_H
#include <stdint.h>
#include "vcpu.h"

/* Handles v->exit: returns 0 to resume the guest at once, or the ZZ_RUN_* result with
 * the state page's exit fields filled in. Never logs: crash reasons go to crash_why. */
int exit_handle(struct vcpu *v);

/* Queues an exception for delivery at the next entry. */
void exit_inject_exception(struct vcpu *v, uint32_t vector, int has_error, uint32_t error);

/* Logs "domain N vcpu M crashed: <reason>" with the guest registers (after a run ended
 * with ZZ_RUN_CRASH, once the host's FPU state is back). */
void exit_crash_report(struct vcpu *v);

/* ---- decode.c ---- */

/* Copies len bytes at guest-linear gla (within one page) through the guest's page tables
 * and the NPT; 0, or -1 if any step is missing (TypeScript then redoes it and explains). */
int decode_read_linear(struct vcpu *v, uint64_t gla, void *buf, uint32_t len);

/* The length of the instruction at RIP if, after legacy and REX prefixes, its opcode
 * bytes are op[0..n); 0 if they are not or the bytes cannot be read. */
uint32_t decode_fixed_len(struct vcpu *v, const uint8_t *op, uint32_t n);


/* The length of the instruction that exited (op[0..n) after any prefixes): the common
 * cases inline (the hardware's next RIP, or an unprefixed instruction in the cached
 * code page), the rest by decode_fixed_len; 0 if the bytes do not match. */
static inline uint32_t exit_insn_len(struct vcpu *v, const uint8_t *op, uint32_t n)
{
    uint64_t rip = v->st->rip;
    if (v->exit.next_rip)
        return (uint32_t)(v->exit.next_rip - rip);
    uint64_t lin = vcpu_long64(v) ? rip : (uint32_t)(v->g.cs_base + rip);
    if (v->cc.valid && (lin >> 12) == v->cc.page && v->g.cr3 == v->cc.cr3 &&
        (lin & 0xFFF) <= 4096 - 15) {
        const uint8_t *p = (const uint8_t *)(v->cc.host + (lin & 0xFFF));
        uint32_t k = 0;
        while (k < n && p[k] == op[k])
            k++;
        if (k == n)
            return n;
    }
    return decode_fixed_len(v, op, n);
}

/* Records the crash of an instruction that does not match its exit; ZZ_RUN_CRASH. */
int exit_skip_failed(struct vcpu *v);

/* Moves RIP past the instruction that exited, op[0..n) after any prefixes, and out of
 * any interrupt shadow it was in; 0, or ZZ_RUN_CRASH. */
static inline int exit_skip(struct vcpu *v, const uint8_t *op, uint32_t n)
{
    struct zz_vcpu_state *st = v->st;
    uint32_t len = exit_insn_len(v, op, n);
    if (!len)
        return exit_skip_failed(v);
    st->rip += len;
    if (!vcpu_long64(v))
        st->rip &= 0xFFFFFFFFu;
    st->insn_len = len;
    if (v->g.shadow) {
        v->g.shadow = 0;
        v->ctl_dirty |= VCTL_SHADOW;
    }
    return 0;
}

/* The domain's CPUID entry for (leaf, subleaf): an exact subleaf, else an "any" one
 * (CPUID_SUBLEAF_ANY sorts last within its leaf); NULL if none. */
static inline const struct cpuid_entry *exit_cpuid_find(const struct domain *d, uint32_t leaf,
                                                        uint32_t sub)
{
    const struct cpuid_entry *t = d->cpuid;
    uint32_t fam = leaf >> 30, off = leaf & 0x3FFFFFFF, lo = 0, hi = d->ncpuid;
    if (fam < 3 && off < 64) {
        lo = d->cpuid_index[fam][off];
        if (!lo--)
            return 0;
    } else {
        while (lo < hi) {
            uint32_t mid = (lo + hi) / 2;
            if (t[mid].leaf < leaf)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    for (; lo < d->ncpuid && t[lo].leaf == leaf; lo++)
        if (t[lo].subleaf == sub || t[lo].subleaf == CPUID_SUBLEAF_ANY)
            return &t[lo];
    return 0;
}

/* CPUID from the domain's table with the per-vCPU substitutions; inline because it is
 * the hottest exit (run loop, vcpu.c). A leaf not in the table answers zeros. */
static inline int exit_cpuid(struct vcpu *v)
{
    static const uint8_t op[2] = {0x0F, 0xA2};
    struct zz_vcpu_state *st = v->st;
    const struct cpuid_entry *e = exit_cpuid_find(v->d, (uint32_t)st->gpr[GPR_RAX],
                                                  (uint32_t)st->gpr[GPR_RCX]);
    uint32_t a = 0, b = 0, c = 0, d = 0;
    if (e) {
        a = e->eax;
        b = e->ebx;
        c = e->ecx;
        d = e->edx;
        if (e->flags) {
            /* The APIC ID is the vCPU ID (Xen's would be 2 * id; ours has no SMT). */
            if (e->flags & CPUID_F_VCPU_ID)
                b = v->id;
            if (e->flags & CPUID_F_APIC_ID)
                b = (b & 0x00FFFFFFu) | (v->id << 24);
            if (e->flags & CPUID_F_X2APIC_ID)
                d = v->id;
            if (e->flags & CPUID_F_OSXSAVE)
                c = (c & ~(1u << 27)) | ((v->g.cr4 & CR4_OSXSAVE) ? 1u << 27 : 0);
        }
    }
    st->gpr[GPR_RAX] = a;
    st->gpr[GPR_RBX] = b;
    st->gpr[GPR_RCX] = c;
    st->gpr[GPR_RDX] = d;
    return exit_skip(v, op, 2);
}

/* Copies up to max (<= 15) instruction bytes at CS:RIP through the guest's paging and
 * the NPT; returns how many could be read (0: none). */
uint32_t decode_fetch(struct vcpu *v, uint8_t *buf, uint32_t max);

/* A decoded MOV to or from MMIO. */
struct mmio_op {
    uint32_t len;      /* instruction length */
    uint32_t size;     /* access size in bytes: 1, 2, 4 or 8 */
    uint32_t write;    /* 1: guest writes memory */
    uint64_t value;    /* write: the value written */
    uint32_t reg;      /* read: destination GPR index */
    uint32_t dst_size; /* read: destination register width in bytes */
    uint32_t high;     /* read: destination is AH, CH, DH or BH */
};

/* Decodes the MOV-family instruction at RIP that touched MMIO (88/89/8A/8B/C6/C7,
 * A0-A3, 0F B6/B7); 0, or -1 with the bytes read left in bytes[0..*nbytes). */
int decode_mmio(struct vcpu *v, struct mmio_op *op, uint8_t bytes[15], uint32_t *nbytes);

#endif
