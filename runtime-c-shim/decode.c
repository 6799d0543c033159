/* Guest instruction fetch and decoding: walks the guest's page tables and the NPT. */
/* No NRIPS or decode assists under TCG, so exits that skip an instruction need its
 * length from the bytes at RIP; MMIO exits need the MOV that caused them. */
#pragma GCC target("general-regs-only")
#include <stdint.h>
#include "exit.h"
#include "mm.h"

#define PTE_P       1ull
#define PTE_PS      0x80ull
#define ADDR_MASK   0x000FFFFFFFFFF000ull
#define CR0_PG      (1ull << 31)
#define CR4_PSE     (1ull << 4)
#define CR4_PAE     (1ull << 5)
#define CR4_LA57    (1ull << 12)
#define MAX_INSN    15

/* Guest-physical to host-physical through the domain's NPT: 4 levels, 1 GiB and 2 MiB
 * leaves, the host's long-mode format. */
static int npt_translate(const struct domain *d, uint64_t gpa, uint64_t *hpa)
{
    uint64_t table = d->npt_root;
    if (gpa >> 48)
        return -1;
    for (int level = 4; level >= 1; level--) {
        uint32_t shift = 12 + 9 * (uint32_t)(level - 1);
        if (!mm_is_mapped(table, MM_PAGE_SIZE))
            return -1;
        uint64_t e = ((const volatile uint64_t *)table)[(gpa >> shift) & 511];
        if (!(e & PTE_P))
            return -1;
        if (level == 1 || (level <= 3 && (e & PTE_PS))) {
            uint64_t mask = (1ull << shift) - 1;
            *hpa = (e & ADDR_MASK & ~mask) | (gpa & mask);
            return 0;
        }
        table = e & ADDR_MASK;
    }
    return -1;
}

/* Reads an aligned 4- or 8-byte guest page-table entry at a guest-physical address. */
static int gpa_read(const struct domain *d, uint64_t gpa, uint32_t size, uint64_t *out)
{
    uint64_t hpa;
    if (npt_translate(d, gpa, &hpa) < 0 || !mm_is_mapped(hpa, size))
        return -1;
    *out = size == 8 ? *(const volatile uint64_t *)hpa : *(const volatile uint32_t *)hpa;
    return 0;
}

/* Walks 64-bit-entry tables (long mode, or PAE below the PDPT) from level top down. */
static int walk64(const struct domain *d, uint64_t table, uint64_t gla, int top, uint64_t *gpa)
{
    for (int level = top; level >= 1; level--) {
        uint32_t shift = 12 + 9 * (uint32_t)(level - 1);
        uint64_t e;
        if (gpa_read(d, table + ((gla >> shift) & 511) * 8, 8, &e) < 0 || !(e & PTE_P))
            return -1;
        if (level == 1 || (level <= 3 && (e & PTE_PS))) {
            uint64_t mask = (1ull << shift) - 1;
            *gpa = (e & ADDR_MASK & ~mask) | (gla & mask);
            return 0;
        }
        table = e & ADDR_MASK;
    }
    return -1;
}

/* Guest-linear to guest-physical in whatever paging mode the guest is in. */
static int guest_translate(const struct vcpu *v, uint64_t gla, uint64_t *gpa)
{
    const struct vguest *g = &v->g;
    const struct domain *d = v->d;
    uint64_t e;

    if (!(g->cr0 & CR0_PG)) {
        *gpa = gla;
        return 0;
    }
    if (g->efer & EFER_LMA)
        return walk64(d, g->cr3 & ADDR_MASK, gla, (g->cr4 & CR4_LA57) ? 5 : 4, gpa);
    if (g->cr4 & CR4_PAE) {
        /* PAE: a 4-entry PDPT at CR3 (32-byte aligned), then two 512-entry levels. */
        if (gpa_read(d, (g->cr3 & 0xFFFFFFE0u) + ((gla >> 30) & 3) * 8, 8, &e) < 0 ||
            !(e & PTE_P))
            return -1;
        return walk64(d, e & ADDR_MASK, gla, 2, gpa);
    }
    /* 32-bit paging: 1024-entry tables, 4 MiB pages with CR4.PSE (PSE-36 high bits). */
    if (gpa_read(d, (g->cr3 & 0xFFFFF000u) + ((gla >> 22) & 0x3FF) * 4, 4, &e) < 0 ||
        !(e & PTE_P))
        return -1;
    if ((e & PTE_PS) && (g->cr4 & CR4_PSE)) {
        *gpa = (e & 0xFFC00000u) | (((e >> 13) & 0xFF) << 32) | (gla & 0x3FFFFF);
        return 0;
    }
    if (gpa_read(d, (e & 0xFFFFF000u) + ((gla >> 12) & 0x3FF) * 4, 4, &e) < 0 || !(e & PTE_P))
        return -1;
    *gpa = (e & 0xFFFFF000u) | (gla & 0xFFF);
    return 0;
}

int decode_read_linear(struct vcpu *v, uint64_t gla, void *buf, uint32_t len)
{
    uint64_t gpa, hpa;
    if (!vcpu_long64(v))
        gla = (uint32_t)gla;
    if (len == 0 || len > MM_PAGE_SIZE - (gla & 0xFFF))
        return -1;
    if (guest_translate(v, gla, &gpa) < 0 || npt_translate(v->d, gpa, &hpa) < 0 ||
        !mm_is_mapped(hpa, len))
        return -1;
    const volatile uint8_t *src = (const volatile uint8_t *)hpa;
    for (uint32_t i = 0; i < len; i++)
        ((uint8_t *)buf)[i] = src[i];
    return 0;
}

/* CS.base + RIP, truncated to 32 bits outside 64-bit code. */
static uint64_t code_linear(const struct vcpu *v)
{
    if (vcpu_long64(v))
        return v->st->rip;
    return (uint32_t)(v->g.cs_base + v->st->rip);
}

/* Host address of the code page holding lin, from the per-vCPU cache or a fresh walk. */
static const uint8_t *code_page(struct vcpu *v, uint64_t lin, int *cached)
{
    uint64_t gpa, hpa, page = lin >> 12;
    if (v->cc.valid && v->cc.page == page && v->cc.cr3 == v->g.cr3) {
        *cached = 1;
        return (const uint8_t *)v->cc.host;
    }
    *cached = 0;
    if (guest_translate(v, lin & ~0xFFFull, &gpa) < 0 || npt_translate(v->d, gpa, &hpa) < 0 ||
        !mm_is_mapped(hpa & ~0xFFFull, MM_PAGE_SIZE))
        return 0;
    v->cc.cr3 = v->g.cr3;
    v->cc.page = page;
    v->cc.host = hpa & ~0xFFFull;
    v->cc.valid = 1;
    return (const uint8_t *)v->cc.host;
}

uint32_t decode_fetch(struct vcpu *v, uint8_t *buf, uint32_t max)
{
    uint64_t lin = code_linear(v);
    uint32_t got = 0;
    int wrap32 = !vcpu_long64(v);

    if (max > MAX_INSN)
        max = MAX_INSN;
    while (got < max) {
        uint64_t gpa, hpa;
        uint32_t chunk = 4096 - (uint32_t)(lin & 0xFFF);
        if (chunk > max - got)
            chunk = max - got;
        if (guest_translate(v, lin, &gpa) < 0 || npt_translate(v->d, gpa, &hpa) < 0 ||
            !mm_is_mapped(hpa, chunk))
            break;
        for (uint32_t i = 0; i < chunk; i++)
            buf[got + i] = ((const volatile uint8_t *)hpa)[i];
        got += chunk;
        lin += chunk;
        if (wrap32)
            lin &= 0xFFFFFFFFu;
    }
    return got;
}

/* Legacy prefixes (operand/address size, segment overrides, LOCK, REP) and, in 64-bit
 * code, REX. */
static int is_prefix(uint8_t b, int long64)
{
    switch (b) {
    case 0x26: case 0x2E: case 0x36: case 0x3E: case 0x64: case 0x65:
    case 0x66: case 0x67: case 0xF0: case 0xF2: case 0xF3:
        return 1;
    default:
        return long64 && (b & 0xF0) == 0x40;
    }
}

uint32_t decode_fixed_len(struct vcpu *v, const uint8_t *op, uint32_t n)
{
    uint64_t lin = code_linear(v);
    int long64 = vcpu_long64(v);

    /* A cached page is checked by the opcode bytes themselves: if they do not match
     * (the guest remapped its code), walk again once. */
    for (int attempt = 0; attempt < 2; attempt++) {
        uint8_t buf[MAX_INSN];
        const uint8_t *p = 0;
        uint32_t avail, i = 0;
        int cached = 0;
        if ((lin & 0xFFF) <= 4096 - MAX_INSN) {
            const uint8_t *page = code_page(v, lin, &cached);
            if (page)
                p = page + (lin & 0xFFF);
        }
        if (p) {
            avail = MAX_INSN;
        } else {
            avail = decode_fetch(v, buf, MAX_INSN);
            p = buf;
        }
        while (i < avail && i < MAX_INSN - 1 && is_prefix(p[i], long64))
            i++;
        if (i + n <= avail) {
            uint32_t k = 0;
            while (k < n && p[i + k] == op[k])
                k++;
            if (k == n)
                return i + n;
        }
        if (!cached)
            return 0;
        v->cc.valid = 0;
    }
    return 0;
}

/* Reads a little-endian immediate of size bytes at bytes[i]. */
static uint64_t imm_read(const uint8_t *bytes, uint32_t i, uint32_t size)
{
    uint64_t x = 0;
    for (uint32_t k = 0; k < size; k++)
        x |= (uint64_t)bytes[i + k] << (8 * k);
    return x;
}

/* The value of an 8/16/32/64-bit source register (AH..BH when high). */
static uint64_t reg_value(const struct vcpu *v, uint32_t reg, uint32_t size, int high)
{
    uint64_t x = high ? v->st->gpr[reg] >> 8 : v->st->gpr[reg];
    return size == 8 ? x : x & ((1ull << (8 * size)) - 1);
}

int decode_mmio(struct vcpu *v, struct mmio_op *op, uint8_t bytes[15], uint32_t *nbytes)
{
    uint32_t n, i = 0, rex = 0, opsize_prefix = 0, addr_prefix = 0;
    int long64 = vcpu_long64(v);
    /* Outside 64-bit code the default sizes come from CS.D (0 in real mode). */
    int def32 = long64 || (v->g.cs_attr & SEG_ATTR_DB);

    if (v->exit.insn_count) {
        n = v->exit.insn_count;
        for (uint32_t k = 0; k < n; k++)
            bytes[k] = v->exit.insn_bytes[k];
    } else {
        n = decode_fetch(v, bytes, MAX_INSN);
    }
    *nbytes = n;

    for (; i < n; i++) {
        uint8_t b = bytes[i];
        if (b == 0x66)
            opsize_prefix = 1;
        else if (b == 0x67)
            addr_prefix = 1;
        else if (long64 && (b & 0xF0) == 0x40) {
            rex = b;
            continue;
        } else if (!is_prefix(b, 0))
            break;
        rex = 0; /* a REX followed by a legacy prefix is ignored */
    }
    uint32_t opsize = (rex & 8) ? 8 : (opsize_prefix ^ !def32) ? 2 : 4;
    uint32_t asize = long64 ? (addr_prefix ? 4 : 8) : (addr_prefix ^ !def32) ? 2 : 4;

    if (i >= n)
        return -1;
    uint8_t b = bytes[i++];
    uint32_t imm = 0, modrm = 1, src_reg = 0;
    op->write = 0;
    op->value = 0;
    op->reg = 0;
    op->high = 0;
    switch (b) {
    case 0x88: op->write = 1; op->size = 1; src_reg = 1; break;
    case 0x89: op->write = 1; op->size = opsize; src_reg = 1; break;
    case 0x8A: op->size = 1; op->dst_size = 1; break;
    case 0x8B: op->size = opsize; op->dst_size = opsize; break;
    case 0xC6: op->write = 1; op->size = 1; imm = 1; break;
    case 0xC7: op->write = 1; op->size = opsize; imm = opsize == 2 ? 2 : 4; break;
    case 0xA0: case 0xA1: case 0xA2: case 0xA3:
        /* MOV AL/eAX <-> moffs: an address-size offset, no ModRM. */
        modrm = 0;
        op->size = (b & 1) ? opsize : 1;
        op->write = (b & 2) != 0;
        op->dst_size = op->size;
        if (op->write)
            op->value = reg_value(v, GPR_RAX, op->size, 0);
        i += asize;
        break;
    case 0x0F:
        if (i >= n || (bytes[i] != 0xB6 && bytes[i] != 0xB7))
            return -1;
        /* MOVZX r, r/m8 or r/m16: zero-extends into an opsize register. */
        op->size = bytes[i] == 0xB6 ? 1 : 2;
        op->dst_size = opsize;
        i++;
        break;
    default:
        return -1;
    }
    if (modrm) {
        if (i >= n)
            return -1;
        uint8_t m = bytes[i++];
        uint32_t mod = m >> 6, rm = m & 7, regf = ((m >> 3) & 7) | ((rex & 4) ? 8 : 0);
        if (mod == 3)
            return -1; /* a register operand cannot have faulted */
        if (imm && (regf & 7) != 0)
            return -1; /* C6/C7 with reg != 0 is not MOV */
        if (asize == 2) {
            if ((mod == 0 && rm == 6) || mod == 2)
                i += 2;
            else if (mod == 1)
                i += 1;
        } else {
            if (rm == 4) {
                if (i >= n)
                    return -1;
                uint8_t sib = bytes[i++];
                if (mod == 0 && (sib & 7) == 5)
                    i += 4;
            }
            if ((mod == 0 && rm == 5) || mod == 2)
                i += 4; /* disp32 (RIP-relative in 64-bit code) */
            else if (mod == 1)
                i += 1;
        }
        /* Byte registers 4-7 without REX are AH, CH, DH, BH. */
        uint32_t width = src_reg ? op->size : op->dst_size;
        int high = !imm && width == 1 && !rex && regf >= 4 && regf < 8;
        uint32_t reg = high ? regf - 4 : regf;
        if (imm) {
            if (i + imm > n)
                return -1;
            uint64_t x = imm_read(bytes, i, imm);
            if (op->size == 8)
                x = (uint64_t)(int64_t)(int32_t)x;
            op->value = x;
            i += imm;
        } else if (src_reg) {
            op->value = reg_value(v, reg, op->size, high);
        } else {
            op->reg = reg;
            op->high = (uint32_t)high;
        }
    }
    if (i > n || i > MAX_INSN)
        return -1;
    op->len = i;
    return 0;
}
