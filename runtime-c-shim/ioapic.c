/* The IOAPIC (from the ACPI MADT) carries ISA IRQs; the 8259 PICs are remapped and masked. */
#include <stdint.h>
#include <string.h>
#include "acpi.h"
#include "ioapic.h"
#include "klog.h"
#include "lapic.h"
#include "mm.h"
#include "x86.h"

#define MAX_IOAPICS 8
#define DEFAULT_IOAPIC 0xFEC00000ULL
#define REG_VERSION 0x01
#define REG_REDIR 0x10
#define REDIR_MASKED (1u << 16)
#define REDIR_LEVEL (1u << 15)
#define REDIR_ACTIVE_LOW (1u << 13)

struct ioapic {
    volatile uint32_t *mmio;
    uint32_t gsi_base, count;
};

/* What the MADT says about one ISA IRQ: its GSI and MPS INTI flags. */
struct isa_route {
    uint32_t gsi;
    uint16_t flags;
};

static struct ioapic ioapics[MAX_IOAPICS];
static int nioapics;
static struct isa_route isa[16];

static uint32_t ioapic_read(const struct ioapic *io, uint32_t reg)
{
    io->mmio[0] = reg; /* IOREGSEL */
    return io->mmio[4]; /* IOWIN at +0x10 */
}

static void ioapic_write(const struct ioapic *io, uint32_t reg, uint32_t v)
{
    io->mmio[0] = reg;
    io->mmio[4] = v;
}

/* Port 0x80 (POST codes) is a harmless ~1 us delay: 8259s on old chipsets need time
 * between initialisation words. */
static void io_delay(void)
{
    x86_outb(0x80, 0);
}

/* Moves the 8259s' vectors to 0x20-0x2F, away from the CPU exceptions they overlap by
 * default, so that a spurious IRQ 7/15 cannot pose as an exception; then masks them. */
static void pic_disable(void)
{
    static const uint8_t init[2][4] = { { 0x11, 0x20, 0x04, 0x01 }, { 0x11, 0x28, 0x02, 0x01 } };
    for (int w = 0; w < 4; w++) {
        x86_outb(w ? 0x21 : 0x20, init[0][w]);
        io_delay();
        x86_outb(w ? 0xA1 : 0xA0, init[1][w]);
        io_delay();
    }
    x86_outb(0x21, 0xFF);
    x86_outb(0xA1, 0xFF);
}

static void add_ioapic(uint64_t addr, uint32_t gsi_base)
{
    if (nioapics == MAX_IOAPICS || !mm_is_mapped(addr, 0x20)) {
        klog("ioapic: ignoring IOAPIC at %llx\n", (unsigned long long)addr);
        return;
    }
    struct ioapic *io = &ioapics[nioapics++];
    io->mmio = (volatile uint32_t *)(uintptr_t)addr;
    io->gsi_base = gsi_base;
    io->count = ((ioapic_read(io, REG_VERSION) >> 16) & 0xFF) + 1;
    for (uint32_t i = 0; i < io->count; i++) {
        ioapic_write(io, REG_REDIR + 2 * i, REDIR_MASKED);
        ioapic_write(io, REG_REDIR + 2 * i + 1, 0);
    }
}

static void parse_madt(const struct acpi_header *madt)
{
    const uint8_t *p = (const uint8_t *)madt + 44, *end = (const uint8_t *)madt + madt->length;
    while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
        if (p[0] == 1 && p[1] >= 12) { /* I/O APIC: id, reserved, address, GSI base */
            uint32_t addr, base;
            memcpy(&addr, p + 4, 4);
            memcpy(&base, p + 8, 4);
            add_ioapic(addr, base);
        } else if (p[0] == 2 && p[1] >= 10 && p[2] == 0 && p[3] < 16) {
            /* interrupt source override: bus 0 (ISA), source IRQ, GSI, flags */
            memcpy(&isa[p[3]].gsi, p + 4, 4);
            memcpy(&isa[p[3]].flags, p + 8, 2);
        }
        p += p[1];
    }
}

void ioapic_init(void)
{
    pic_disable();
    for (int i = 0; i < 16; i++)
        isa[i] = (struct isa_route){ (uint32_t)i, 0 };
    const struct acpi_header *madt = acpi_init() ? acpi_find_table("APIC") : 0;
    if (madt)
        parse_madt(madt);
    if (nioapics == 0) {
        klog("ioapic: no MADT IOAPIC; assuming one at %llx\n", (unsigned long long)DEFAULT_IOAPIC);
        add_ioapic(DEFAULT_IOAPIC, 0);
    }
}

int ioapic_route_isa(uint8_t irq, uint8_t vector)
{
    if (irq >= 16)
        return 0;
    uint32_t gsi = isa[irq].gsi;
    uint16_t flags = isa[irq].flags;
    for (int i = 0; i < nioapics; i++) {
        const struct ioapic *io = &ioapics[i];
        if (gsi < io->gsi_base || gsi - io->gsi_base >= io->count)
            continue;
        /* MPS INTI flags: polarity bits 0-1 (3 = active low), trigger bits 2-3 (3 =
         * level); 0 means "as the bus says", which for ISA is active high, edge. */
        uint32_t lo = vector;
        if ((flags & 3) == 3)
            lo |= REDIR_ACTIVE_LOW;
        if (((flags >> 2) & 3) == 3)
            lo |= REDIR_LEVEL;
        uint32_t pin = gsi - io->gsi_base;
        ioapic_write(io, REG_REDIR + 2 * pin + 1, (lapic_id() & 0xFF) << 24);
        ioapic_write(io, REG_REDIR + 2 * pin, lo); /* unmasks */
        klog("ioapic: ISA IRQ %u -> GSI %u -> vector 0x%02x\n", irq, gsi, vector);
        return 1;
    }
    klog("ioapic: no IOAPIC input for ISA IRQ %u (GSI %u)\n", irq, gsi);
    return 0;
}
