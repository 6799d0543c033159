/* Domains: handles, and the per-domain policy tables the fast exit path reads. */
#include <stdint.h>
#include <string.h>
#include "mm.h"
#include "vcpu.h"

#define DOMID_MAX 0x7FEF /* DOMID_FIRST_RESERVED - 1 */

_Static_assert(sizeof(struct domain) <= MM_PAGE_SIZE, "struct domain fits one frame");

static struct domain *domains[VCPU_MAX_DOMAINS];
static uint32_t domain_gen[VCPU_MAX_DOMAINS];

/* Handles are (generation << 8) | slot, so a stale handle never finds a new object. */

struct domain *domain_lookup(uint32_t handle)
{
    uint32_t slot = handle & 0xFF;
    struct domain *d = slot < VCPU_MAX_DOMAINS ? domains[slot] : 0;
    return d && d->handle == handle ? d : 0;
}

/* ---- domains ---- */

int64_t domain_create(uint32_t domid)
{
    const struct virt_caps *c = vcpu_caps();
    uint32_t slot;

    if (!c->usable)
        return vcpu_fail(VCPU_ENODEV, "guests cannot run on this machine: %s", c->reason);
    if (domid > DOMID_MAX)
        return vcpu_fail(VCPU_EINVAL, "domid %u is out of range (0..%u)", domid, DOMID_MAX);
    for (slot = 0; slot < VCPU_MAX_DOMAINS; slot++)
        if (domains[slot] && domains[slot]->domid == domid)
            return vcpu_fail(VCPU_EINVAL, "domain %u already exists", domid);
    for (slot = 0; slot < VCPU_MAX_DOMAINS && domains[slot]; slot++)
        ;
    if (slot == VCPU_MAX_DOMAINS)
        return vcpu_fail(VCPU_ENOMEM, "too many domains (at most %d)", VCPU_MAX_DOMAINS);

    uint64_t pa = mm_frames_alloc(1), cpuid_pa = mm_frames_alloc(1);
    struct domain *d = (struct domain *)pa;
    if (!pa || !cpuid_pa || virt->domain_init(d) < 0) {
        if (pa)
            mm_frames_free(pa, 1);
        if (cpuid_pa)
            mm_frames_free(cpuid_pa, 1);
        return vcpu_fail(VCPU_ENOMEM, "out of memory creating domain %u", domid);
    }
    d->self_pa = pa;
    d->domid = domid;
    d->cpuid = (struct cpuid_entry *)cpuid_pa;
    d->xcr0_allowed = vcpu_host_xcr0();
    /* Hypercall table all zeros: every hypercall answers -ENOSYS until it is set. */
    d->handle = (++domain_gen[slot] << 8) | slot;
    domains[slot] = d;
    return d->handle;
}

int domain_destroy(uint32_t handle)
{
    struct domain *d = domain_lookup(handle);
    if (!d)
        return vcpu_fail(VCPU_EINVAL, "no domain with handle %u", handle);
    while (d->vcpus)
        vcpu_destroy(d->vcpus->handle);
    virt->domain_free(d);
    domains[handle & 0xFF] = 0;
    mm_frames_free((uint64_t)d->cpuid, 1);
    d->handle = 0;
    mm_frames_free(d->self_pa, 1);
    return 0;
}

int domain_set_npt(uint32_t handle, uint64_t root)
{
    struct domain *d = domain_lookup(handle);
    if (!d)
        return vcpu_fail(VCPU_EINVAL, "no domain with handle %u", handle);
    if (root % MM_PAGE_SIZE || !mm_phys_range_ok(root, MM_PAGE_SIZE))
        return vcpu_fail(VCPU_EINVAL, "NPT root %#llx is not a page of RAM outside the shim",
                    (unsigned long long)root);
    d->npt_root = root;
    virt->domain_npt_changed(d);
    return 0;
}

int domain_set_cpuid(uint32_t handle, const uint32_t *w, size_t n)
{
    struct domain *d = domain_lookup(handle);
    struct cpuid_entry *t;
    if (!d)
        return vcpu_fail(VCPU_EINVAL, "no domain with handle %u", handle);
    if (n > DOMAIN_MAX_CPUID)
        return vcpu_fail(VCPU_EINVAL, "%zu CPUID entries; at most %d", n, DOMAIN_MAX_CPUID);
    for (size_t i = 0; i < n; i++)
        if (w[7 * i + 6] & ~0xFu)
            return vcpu_fail(VCPU_EINVAL, "CPUID entry %zu: unknown flags %#x", i, w[7 * i + 6]);
    /* Insertion sort by (leaf, subleaf) into the table; "any" (all ones) sorts last. */
    t = d->cpuid;
    for (size_t i = 0; i < n; i++) {
        struct cpuid_entry e = {w[7 * i], w[7 * i + 1], w[7 * i + 2], w[7 * i + 3],
                                w[7 * i + 4], w[7 * i + 5], w[7 * i + 6]};
        size_t j = i;
        while (j > 0 && (t[j - 1].leaf > e.leaf ||
                         (t[j - 1].leaf == e.leaf && t[j - 1].subleaf > e.subleaf))) {
            t[j] = t[j - 1];
            j--;
        }
        if (j > 0 && t[j - 1].leaf == e.leaf && t[j - 1].subleaf == e.subleaf) {
            d->ncpuid = 0;
            memset(d->cpuid_index, 0, sizeof(d->cpuid_index));
            return vcpu_fail(VCPU_EINVAL, "duplicate CPUID entry for leaf %#x subleaf %#x", e.leaf,
                        e.subleaf);
        }
        t[j] = e;
    }
    d->ncpuid = (uint32_t)n;
    memset(d->cpuid_index, 0, sizeof(d->cpuid_index));
    for (size_t i = n; i-- > 0;) {
        uint32_t fam = t[i].leaf >> 30, off = t[i].leaf & 0x3FFFFFFF;
        if (fam < 3 && off < 64)
            d->cpuid_index[fam][off] = (uint8_t)(i + 1);
    }
    /* XCR0 may only hold what leaf 0xD (if present) offers and the host enabled. */
    d->xcr0_allowed = vcpu_host_xcr0();
    for (size_t i = 0; i < n; i++)
        if (t[i].leaf == 0xD && (t[i].subleaf == 0 || t[i].subleaf == CPUID_SUBLEAF_ANY))
            d->xcr0_allowed &= (t[i].eax | ((uint64_t)t[i].edx << 32)) | 1;
    return 0;
}

/* MSRs action 3 may hand to the guest: the ones the VMCB holds (and the TSC). */
static int msr_is_own(uint32_t msr)
{
    static const uint32_t own[] = {0x10, 0x174, 0x175, 0x176, 0x277, 0xC0000080, 0xC0000081,
                                   0xC0000082, 0xC0000083, 0xC0000084, 0xC0000100, 0xC0000101,
                                   0xC0000102};
    for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
        if (own[i] == msr)
            return 1;
    return 0;
}

int domain_set_msrs(uint32_t handle, const uint32_t *w, size_t n)
{
    struct domain *d = domain_lookup(handle);
    struct msr_entry t[DOMAIN_MAX_MSRS];
    uint32_t slots = 0;
    if (!d)
        return vcpu_fail(VCPU_EINVAL, "no domain with handle %u", handle);
    if (n > DOMAIN_MAX_MSRS)
        return vcpu_fail(VCPU_EINVAL, "%zu MSR entries; at most %d", n, DOMAIN_MAX_MSRS);
    for (size_t i = 0; i < n; i++) {
        uint32_t msr = w[4 * i], action = w[4 * i + 1];
        if (action > MSR_ACT_OWN)
            return vcpu_fail(VCPU_EINVAL, "MSR %#x: action %u is not 0-3", msr, action);
        if (action == MSR_ACT_OWN && !msr_is_own(msr))
            return vcpu_fail(VCPU_EINVAL, "MSR %#x cannot be the guest's own (action 3)", msr);
        if (action == MSR_ACT_VCPU && slots == VCPU_MSR_SLOTS)
            return vcpu_fail(VCPU_EINVAL, "more than %d per-vCPU MSRs (action 1)", VCPU_MSR_SLOTS);
        struct msr_entry e = {msr, (uint16_t)action, (uint16_t)(action == MSR_ACT_VCPU ? slots++ : 0),
                              w[4 * i + 2] | ((uint64_t)w[4 * i + 3] << 32)};
        size_t j = i;
        while (j > 0 && t[j - 1].msr > msr) {
            t[j] = t[j - 1];
            j--;
        }
        if (j > 0 && t[j - 1].msr == msr)
            return vcpu_fail(VCPU_EINVAL, "duplicate MSR entry %#x", msr);
        t[j] = e;
    }
    memcpy(d->msrs, t, n * sizeof(t[0]));
    d->nmsrs = (uint32_t)n;
    d->nslots = slots;
    for (struct vcpu *v = d->vcpus; v; v = v->next)
        for (uint32_t i = 0; i < d->nmsrs; i++)
            if (d->msrs[i].action == MSR_ACT_VCPU)
                v->msr_vals[d->msrs[i].slot] = d->msrs[i].value;
    virt->domain_msrs_changed(d);
    return 0;
}

int domain_set_ports(uint32_t handle, const uint8_t *bitmap)
{
    struct domain *d = domain_lookup(handle);
    struct port_range r[DOMAIN_MAX_PORTS];
    uint32_t n = 0;
    if (!d)
        return vcpu_fail(VCPU_EINVAL, "no domain with handle %u", handle);
    for (uint32_t p = 0; p < 0x10000; p++) {
        if (!(bitmap[p / 8] & (1u << (p % 8))))
            continue;
        if (n > 0 && r[n - 1].last == p - 1) {
            r[n - 1].last = (uint16_t)p;
            continue;
        }
        if (n == DOMAIN_MAX_PORTS)
            return vcpu_fail(VCPU_EINVAL, "more than %d ranges of forwarded ports", DOMAIN_MAX_PORTS);
        r[n].first = r[n].last = (uint16_t)p;
        n++;
    }
    memcpy(d->ports, r, n * sizeof(r[0]));
    d->nports = n;
    return 0;
}

int domain_set_devices(uint32_t handle, uint32_t flags)
{
    struct domain *d = domain_lookup(handle);
    if (!d)
        return vcpu_fail(VCPU_EINVAL, "no domain with handle %u", handle);
    if (flags & ~ZZ_DEVICE_PIT2)
        return vcpu_fail(VCPU_EINVAL, "unknown device flags %#x", flags & ~ZZ_DEVICE_PIT2);
    pit_reset(&d->pit, (flags & ZZ_DEVICE_PIT2) != 0);
    return 0;
}

int domain_set_send_ports(uint32_t handle, const uint32_t *ports, uint32_t n)
{
    struct domain *d = domain_lookup(handle);
    if (!d)
        return vcpu_fail(VCPU_EINVAL, "no domain with handle %u", handle);
    if (n > ZZ_SEND_PORTS)
        return vcpu_fail(VCPU_EINVAL, "%u send ports is too many (at most %d)", n, ZZ_SEND_PORTS);
    for (uint32_t i = 0; i < n; i++) {
        if (ports[i] == 0)
            return vcpu_fail(VCPU_EINVAL, "port 0 is never bound");
        d->send_ports[i] = ports[i];
    }
    d->nsend_ports = n;
    return 0;
}

int domain_set_mmio(uint32_t handle, const uint64_t *pairs, size_t n)
{
    struct domain *d = domain_lookup(handle);
    if (!d)
        return vcpu_fail(VCPU_EINVAL, "no domain with handle %u", handle);
    if (n > DOMAIN_MAX_MMIO)
        return vcpu_fail(VCPU_EINVAL, "%zu MMIO ranges; at most %d", n, DOMAIN_MAX_MMIO);
    for (size_t i = 0; i < n; i++) {
        uint64_t base = pairs[2 * i], len = pairs[2 * i + 1];
        if (len == 0 || base >= (1ull << 52) || len > (1ull << 52) - base)
            return vcpu_fail(VCPU_EINVAL, "MMIO range %zu (%#llx+%#llx) is empty or beyond 2^52", i,
                        (unsigned long long)base, (unsigned long long)len);
    }
    for (size_t i = 0; i < n; i++) {
        d->mmio[i].base = pairs[2 * i];
        d->mmio[i].end = pairs[2 * i] + pairs[2 * i + 1];
    }
    d->nmmio = (uint32_t)n;
    return 0;
}

int domain_set_hypercalls(uint32_t handle, const uint32_t *w)
{
    struct domain *d = domain_lookup(handle);
    if (!d)
        return vcpu_fail(VCPU_EINVAL, "no domain with handle %u", handle);
    for (uint32_t i = 0; i < DOMAIN_HYPERCALLS; i++) {
        uint32_t mode = w[2 * i];
        if (mode > HCALL_FAST)
            return vcpu_fail(VCPU_EINVAL, "hypercall %u: mode %u is not 0-2", i, mode);
        if (mode == HCALL_FAST && i != 17 && i != 24 && i != 29 && i != 32)
            return vcpu_fail(VCPU_EINVAL, "hypercall %u has no fast handler (only 17, 24, 29 and 32)", i);
    }
    for (uint32_t i = 0; i < DOMAIN_HYPERCALLS; i++) {
        d->hcall[i].mode = w[2 * i];
        d->hcall[i].data = w[2 * i + 1];
    }
    return 0;
}

