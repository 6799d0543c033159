/* What the boot loader handed over, normalised from multiboot1 or multiboot2. */
#ifndef ZAZEN_BOOT_H
#define ZAZEN_BOOT_H
#include <stdint.h>
#include <stddef.h>

#define BOOT_MAX_RANGES 128
#define BOOT_MAX_MODULES 32
#define BOOT_MAX_RESERVED (BOOT_MAX_MODULES + 40)

struct boot_range {
    uint64_t base, length;
    uint32_t type; /* 1 RAM, 2 reserved, 3 ACPI reclaimable, 4 ACPI NVS, 5 bad */
};

struct boot_module {
    uint64_t start, end;  /* [start, end) physical */
    const char *cmdline;  /* module's command line (copied into the image's data) */
    const char *name;     /* base name of the first word of cmdline */
};

struct boot_info {
    int multiboot2;       /* 0: multiboot1, 1: multiboot2 */
    int uefi;             /* 1 when the loader reported EFI system tables */
    const char *cmdline;
    const char *loader_name; /* the loader's name if it gave one, else "" */
    uint64_t rsdp;        /* ACPI RSDP physical address from the loader (multiboot2 keeps
                             a copy in its info block), else from the BIOS-area scan
                             (acpi_init), or 0 */
    size_t nranges;
    struct boot_range ranges[BOOT_MAX_RANGES];
    size_t nmodules;
    struct boot_module modules[BOOT_MAX_MODULES];
    uint64_t loader_end;  /* highest physical byte the loader placed (info, modules) */
    /* everything the loader placed that must survive (info block, its tables and
     * strings, modules): the frame allocator never hands these out */
    size_t nreserved;
    struct boot_range reserved[BOOT_MAX_RESERVED];
    /* framebuffer for the screen console, if the loader set up a linear one */
    uint64_t fb_addr;
    uint32_t fb_pitch, fb_width, fb_height, fb_bpp;
    int fb_is_text;       /* 1: VGA text mode at fb_addr (0xB8000) */
    uint8_t fb_red_pos, fb_red_size, fb_green_pos, fb_green_size, fb_blue_pos, fb_blue_size;
};

extern struct boot_info boot_info;

/* Parses the multiboot1 (magic 0x2BADB002) or multiboot2 (0x36D76289) info block. */
void boot_parse(uint32_t magic, uint64_t info_phys);

/* Image bounds from the linker script. */
extern char __image_start[], __image_end[], __bss_start[], __bss_end[];

#endif
