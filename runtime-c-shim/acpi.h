/* Finding ACPI tables from the RSDP (internal to the shim; the full parse is TypeScript's). */
#ifndef ZAZEN_ACPI_H
#define ZAZEN_ACPI_H
#include <stdint.h>

struct acpi_header {
    char signature[4];
    uint32_t length;
    uint8_t revision, checksum;
    char oem_id[6], oem_table_id[8];
    uint32_t oem_revision, creator_id, creator_revision;
} __attribute__((packed));

/* Locates the RSDP (the loader's, else a BIOS-area scan) and stores it in boot_info.rsdp;
 * returns 0 if there is no valid one. */
int acpi_init(void);

/* Returns the first table with signature sig whose checksum holds, or 0. */
const struct acpi_header *acpi_find_table(const char sig[4]);

#endif
