/* ACPI table lookup: validates the RSDP, walks the XSDT or RSDT, checks checksums. */
#include <stdint.h>
#include <string.h>
#include "acpi.h"
#include "boot.h"
#include "klog.h"
#include "mm.h"

#define TABLE_MAX_LEN (16u << 20) /* sanity bound on a table's declared length */

struct rsdp {
    char signature[8];
    uint8_t checksum;
    char oem_id[6];
    uint8_t revision;
    uint32_t rsdt;
    uint32_t length;
    uint64_t xsdt;
    uint8_t ext_checksum, reserved[3];
} __attribute__((packed));

static const struct rsdp *rsdp;

static uint8_t sum(const void *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += ((const uint8_t *)p)[i];
    return s;
}

static const struct rsdp *rsdp_at(uint64_t addr)
{
    const struct rsdp *r = (const struct rsdp *)(uintptr_t)addr;
    if (!mm_is_mapped(addr, 20) || memcmp(r->signature, "RSD PTR ", 8) != 0 || sum(r, 20) != 0)
        return 0;
    if (r->revision >= 2 && (!mm_is_mapped(addr, sizeof(*r)) || sum(r, sizeof(*r)) != 0))
        return 0;
    return r;
}

/* The ACPI spec's BIOS search: the first KiB of the EBDA, then 0xE0000-0xFFFFF, on
 * 16-byte boundaries. */
static uint64_t scan_bios(void)
{
    uintptr_t bda_ebda = 0x40E; /* BIOS data area: EBDA segment */
    __asm__("" : "+r"(bda_ebda)); /* a real address, not a null-pointer offset */
    uint64_t ebda = (uint64_t)*(volatile uint16_t *)bda_ebda << 4;
    if (ebda >= 0x80000 && ebda < 0xA0000)
        for (uint64_t a = ebda; a < ebda + 1024; a += 16)
            if (rsdp_at(a))
                return a;
    for (uint64_t a = 0xE0000; a < 0x100000; a += 16)
        if (rsdp_at(a))
            return a;
    return 0;
}

int acpi_init(void)
{
    if (boot_info.rsdp && !(rsdp = rsdp_at(boot_info.rsdp)))
        klog("acpi: the loader's RSDP at %llx is invalid; scanning\n",
             (unsigned long long)boot_info.rsdp);
    if (!rsdp && !boot_info.uefi) {
        uint64_t a = scan_bios();
        if (a)
            rsdp = rsdp_at(a);
    }
    boot_info.rsdp = (uint64_t)(uintptr_t)rsdp;
    if (!rsdp)
        klog("acpi: no RSDP found\n");
    return rsdp != 0;
}

static const struct acpi_header *table_at(uint64_t addr)
{
    const struct acpi_header *h = (const struct acpi_header *)(uintptr_t)addr;
    if (!addr || !mm_is_mapped(addr, sizeof(*h)) || h->length < sizeof(*h) ||
        h->length > TABLE_MAX_LEN || !mm_is_mapped(addr, h->length) || sum(h, h->length) != 0)
        return 0;
    return h;
}

const struct acpi_header *acpi_find_table(const char sig[4])
{
    if (!rsdp)
        return 0;
    int wide = rsdp->revision >= 2 && rsdp->xsdt;
    const struct acpi_header *root = table_at(wide ? rsdp->xsdt : rsdp->rsdt);
    if (!root) {
        klog("acpi: the %s is missing or corrupt\n", wide ? "XSDT" : "RSDT");
        return 0;
    }
    size_t entry = wide ? 8 : 4, n = (root->length - sizeof(*root)) / entry;
    const uint8_t *p = (const uint8_t *)(root + 1);
    for (size_t i = 0; i < n; i++) {
        uint64_t addr = 0;
        memcpy(&addr, p + i * entry, entry);
        const struct acpi_header *t = table_at(addr);
        if (t && memcmp(t->signature, sig, 4) == 0)
            return t;
    }
    return 0;
}
