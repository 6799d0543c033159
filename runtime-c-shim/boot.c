/* Multiboot1 and multiboot2 info parsing into struct boot_info (strings copied into .bss). */
#include <stdint.h>
#include <string.h>
#include "boot.h"
#include "klog.h"

#define MB1_LOADER_MAGIC 0x2BADB002u
#define MB2_LOADER_MAGIC 0x36D76289u
#define STRING_POOL_SIZE 16384
#define STRING_MAX 4096
#define MB2_INFO_MAX (16u << 20) /* sanity bound on the info block's declared size */

struct boot_info boot_info;

static char string_pool[STRING_POOL_SIZE];
static size_t string_used;

/* Multiboot1 info block (offsets per the multiboot 0.6.96 specification). */
struct mb1_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr, drives_length, drives_addr, config_table;
    uint32_t boot_loader_name, apm_table, vbe_control_info, vbe_mode_info;
    uint16_t vbe_mode, vbe_interface_seg, vbe_interface_off, vbe_interface_len;
    uint64_t fb_addr;
    uint32_t fb_pitch, fb_width, fb_height;
    uint8_t fb_bpp, fb_type;
    uint8_t fb_color[6];
} __attribute__((packed));

struct mb1_module {
    uint32_t start, end, string, reserved;
};

#define MB1_MEM (1u << 0)
#define MB1_CMDLINE (1u << 2)
#define MB1_MODS (1u << 3)
#define MB1_MMAP (1u << 6)
#define MB1_LOADER_NAME (1u << 9)
#define MB1_FB (1u << 12)

enum {
    MB2_END = 0, MB2_CMDLINE = 1, MB2_LOADER_NAME = 2, MB2_MODULE = 3, MB2_MEMINFO = 4,
    MB2_MMAP = 6, MB2_FRAMEBUFFER = 8, MB2_EFI32 = 11, MB2_EFI64 = 12, MB2_ACPI_OLD = 14,
    MB2_ACPI_NEW = 15, MB2_EFI_MMAP = 17,
};

static const void *phys(uint64_t addr)
{
    return (const void *)(uintptr_t)addr;
}

/* Records a range the loader placed, so the frame allocator leaves it alone. */
static void reserve(uint64_t base, uint64_t length)
{
    if (length == 0)
        return;
    if (base + length > boot_info.loader_end)
        boot_info.loader_end = base + length;
    if (boot_info.nreserved == BOOT_MAX_RESERVED) {
        klog("boot: too many loader ranges; ignoring %llx+%llx\n",
             (unsigned long long)base, (unsigned long long)length);
        return;
    }
    boot_info.reserved[boot_info.nreserved++] = (struct boot_range){ base, length, 2 };
}

/* Copies a NUL-terminated loader string (at most max bytes) into the pool. */
static const char *copy_string(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    if (string_used + n + 1 > STRING_POOL_SIZE) {
        klog("boot: string pool full; dropping a %zu-byte loader string\n", n);
        return "";
    }
    char *d = string_pool + string_used;
    memcpy(d, s, n);
    d[n] = 0;
    string_used += n + 1;
    return d;
}

/* Copies a loader string given by physical address and reserves its bytes. */
static const char *take_string(uint64_t addr)
{
    if (addr == 0)
        return "";
    const char *s = phys(addr);
    reserve(addr, strnlen(s, STRING_MAX) + 1);
    return copy_string(s, STRING_MAX);
}

/* The base name of the first word of cmdline, e.g. "/boot/x.js arg" gives "x.js". */
static const char *module_name(const char *cmdline)
{
    const char *end = cmdline;
    while (*end && *end != ' ')
        end++;
    const char *start = end;
    while (start > cmdline && start[-1] != '/')
        start--;
    char tmp[256];
    size_t n = (size_t)(end - start) < sizeof(tmp) - 1 ? (size_t)(end - start) : sizeof(tmp) - 1;
    memcpy(tmp, start, n);
    tmp[n] = 0;
    return copy_string(tmp, sizeof(tmp));
}

static void add_module(uint64_t start, uint64_t end, const char *cmdline)
{
    if (end < start) {
        klog("boot: ignoring module '%s' with end %llx before start %llx\n", cmdline,
             (unsigned long long)end, (unsigned long long)start);
        return;
    }
    if (boot_info.nmodules == BOOT_MAX_MODULES) {
        klog("boot: more than %d modules; ignoring '%s'\n", BOOT_MAX_MODULES, cmdline);
        return;
    }
    reserve(start, end - start);
    boot_info.modules[boot_info.nmodules++] =
        (struct boot_module){ start, end, cmdline, module_name(cmdline) };
}

static void add_range(uint64_t base, uint64_t length, uint32_t type)
{
    if (length == 0)
        return;
    if (boot_info.nranges == BOOT_MAX_RANGES) {
        klog("boot: memory map has more than %d ranges; ignoring the rest\n", BOOT_MAX_RANGES);
        return;
    }
    if (type < 1 || type > 5)
        type = 2; /* unknown types are reserved */
    if (base + length < base)
        length = -base; /* clip a range that wraps */
    boot_info.ranges[boot_info.nranges++] = (struct boot_range){ base, length, type };
}

/* Maps an EFI memory type to the e820-style types of struct boot_range. Boot-services
 * and loader memory is free once GRUB has exited boot services. */
static uint32_t efi_type(uint32_t t)
{
    switch (t) {
    case 1: case 2: case 3: case 4: case 7: return 1; /* loader, boot services, conventional */
    case 9: return 3;  /* ACPI reclaimable */
    case 10: return 4; /* ACPI NVS */
    case 8: return 5;  /* unusable */
    default: return 2; /* reserved, runtime services, MMIO, PAL code, persistent */
    }
}

static void set_fb(uint64_t addr, uint32_t pitch, uint32_t width, uint32_t height, uint8_t bpp,
                   uint8_t type, const uint8_t *color)
{
    if (type == 2) { /* EGA text: width and height are in characters */
        boot_info.fb_is_text = 1;
    } else if (type == 1) {
        boot_info.fb_red_pos = color[0];
        boot_info.fb_red_size = color[1];
        boot_info.fb_green_pos = color[2];
        boot_info.fb_green_size = color[3];
        boot_info.fb_blue_pos = color[4];
        boot_info.fb_blue_size = color[5];
    } else {
        return; /* indexed colour: not supported by the screen console */
    }
    boot_info.fb_addr = addr;
    boot_info.fb_pitch = pitch;
    boot_info.fb_width = width;
    boot_info.fb_height = height;
    boot_info.fb_bpp = bpp;
}

/* The text after the first word of s and the blanks that follow it. */
static const char *skip_first_word(const char *s)
{
    while (*s && *s != ' ')
        s++;
    while (*s == ' ')
        s++;
    return s;
}

static void parse_mb1(uint64_t addr)
{
    const struct mb1_info *mb = phys(addr);
    reserve(addr, sizeof(*mb));
    /* Multiboot1 loaders (QEMU, GRUB's multiboot) put the kernel's own path first on the
     * command line; multiboot2 gives only the arguments. Drop the path, as Xen does, so
     * the command line means the same under every loader. */
    if (mb->flags & MB1_CMDLINE)
        boot_info.cmdline = skip_first_word(take_string(mb->cmdline));
    if (mb->flags & MB1_LOADER_NAME)
        boot_info.loader_name = take_string(mb->boot_loader_name);
    if (mb->flags & MB1_MODS) {
        const struct mb1_module *m = phys(mb->mods_addr);
        reserve(mb->mods_addr, (uint64_t)mb->mods_count * sizeof(*m));
        for (uint32_t i = 0; i < mb->mods_count && i < 4 * BOOT_MAX_MODULES; i++)
            add_module(m[i].start, m[i].end, take_string(m[i].string));
    }
    if (mb->flags & MB1_MMAP) {
        reserve(mb->mmap_addr, mb->mmap_length);
        uint64_t p = mb->mmap_addr, end = p + mb->mmap_length;
        /* each entry: u32 size (not counting itself), u64 base, u64 length, u32 type */
        while (p + 24 <= end) {
            uint32_t size;
            uint64_t base, length;
            uint32_t type;
            memcpy(&size, phys(p), 4);
            memcpy(&base, phys(p + 4), 8);
            memcpy(&length, phys(p + 12), 8);
            memcpy(&type, phys(p + 20), 4);
            if (size < 20)
                break; /* malformed: would not advance sensibly */
            add_range(base, length, type);
            p += size + 4;
        }
    } else if (mb->flags & MB1_MEM) {
        klog("boot: no memory map from the loader; using mem_lower/mem_upper\n");
        add_range(0, (uint64_t)mb->mem_lower << 10, 1);
        add_range(1 << 20, (uint64_t)mb->mem_upper << 10, 1);
    }
    if (mb->flags & MB1_FB)
        set_fb(mb->fb_addr, mb->fb_pitch, mb->fb_width, mb->fb_height, mb->fb_bpp, mb->fb_type,
               mb->fb_color);
}

static void parse_mb2_mmap(const uint8_t *tag, uint32_t size, int efi)
{
    uint32_t entry_size, hdr = 16;
    memcpy(&entry_size, tag + 8, 4);
    if (entry_size < (efi ? 40u : 24u)) {
        klog("boot: multiboot2 memory map tag with entry size %u ignored\n", entry_size);
        return;
    }
    for (uint32_t off = hdr; off + entry_size <= size; off += entry_size) {
        const uint8_t *e = tag + off;
        uint64_t base, length;
        uint32_t type;
        if (efi) { /* u32 type, u32 pad, u64 phys, u64 virt, u64 pages, u64 attributes */
            uint64_t pages;
            memcpy(&type, e, 4);
            memcpy(&base, e + 8, 8);
            memcpy(&pages, e + 24, 8);
            length = pages << 12;
            type = efi_type(type);
        } else { /* u64 base, u64 length, u32 type, u32 reserved */
            memcpy(&base, e, 8);
            memcpy(&length, e + 8, 8);
            memcpy(&type, e + 16, 4);
        }
        add_range(base, length, type);
    }
}

static void parse_mb2(uint64_t addr)
{
    const uint8_t *info = phys(addr), *efi_mmap = 0;
    uint32_t total, efi_mmap_size = 0, mem_lower = 0, mem_upper = 0;
    int have_mmap = 0, have_meminfo = 0;
    uint64_t rsdp_old = 0, rsdp_new = 0;

    memcpy(&total, info, 4);
    if (total < 16 || total > MB2_INFO_MAX)
        panic("boot: multiboot2 info block at %llx has implausible size %u",
              (unsigned long long)addr, total);
    reserve(addr, total);
    for (uint32_t off = 8; off + 8 <= total;) {
        const uint8_t *tag = info + off;
        uint32_t type, size;
        memcpy(&type, tag, 4);
        memcpy(&size, tag + 4, 4);
        if (type == MB2_END)
            break;
        if (size < 8 || off + size > total) {
            klog("boot: malformed multiboot2 tag %u (size %u) ends the parse\n", type, size);
            break;
        }
        switch (type) {
        case MB2_CMDLINE:
            boot_info.cmdline = copy_string((const char *)tag + 8, size - 8);
            break;
        case MB2_LOADER_NAME:
            boot_info.loader_name = copy_string((const char *)tag + 8, size - 8);
            break;
        case MB2_MODULE:
            if (size >= 16) {
                uint32_t start, end;
                memcpy(&start, tag + 8, 4);
                memcpy(&end, tag + 12, 4);
                add_module(start, end, copy_string((const char *)tag + 16, size - 16));
            }
            break;
        case MB2_MEMINFO:
            if (size >= 16) {
                memcpy(&mem_lower, tag + 8, 4);
                memcpy(&mem_upper, tag + 12, 4);
                have_meminfo = 1;
            }
            break;
        case MB2_MMAP:
            if (size >= 16) {
                parse_mb2_mmap(tag, size, 0);
                have_mmap = 1;
            }
            break;
        case MB2_EFI_MMAP:
            if (size >= 16) {
                efi_mmap = tag;
                efi_mmap_size = size;
            }
            break;
        case MB2_FRAMEBUFFER:
            if (size >= 32 && (tag[29] != 1 || size >= 38)) { /* RGB needs the colour fields */
                uint64_t fb;
                uint32_t pitch, width, height;
                memcpy(&fb, tag + 8, 8);
                memcpy(&pitch, tag + 16, 4);
                memcpy(&width, tag + 20, 4);
                memcpy(&height, tag + 24, 4);
                set_fb(fb, pitch, width, height, tag[28], tag[29], tag + 32);
            }
            break;
        case MB2_EFI32:
        case MB2_EFI64:
            boot_info.uefi = 1;
            break;
        case MB2_ACPI_OLD:
            rsdp_old = addr + off + 8; /* the loader's copy of the RSDP, inside the block */
            break;
        case MB2_ACPI_NEW:
            rsdp_new = addr + off + 8;
            break;
        default:
            break;
        }
        off += (size + 7) & ~7u;
    }
    boot_info.rsdp = rsdp_new ? rsdp_new : rsdp_old;
    if (!have_mmap && efi_mmap)
        parse_mb2_mmap(efi_mmap, efi_mmap_size, 1);
    if (boot_info.nranges == 0 && have_meminfo) {
        klog("boot: no memory map from the loader; using basic meminfo\n");
        add_range(0, (uint64_t)mem_lower << 10, 1);
        add_range(1 << 20, (uint64_t)mem_upper << 10, 1);
    }
}

/* Sorts the memory map by base address (insertion sort: the map is short). */
static void sort_ranges(void)
{
    for (size_t i = 1; i < boot_info.nranges; i++) {
        struct boot_range r = boot_info.ranges[i];
        size_t j = i;
        for (; j > 0 && boot_info.ranges[j - 1].base > r.base; j--)
            boot_info.ranges[j] = boot_info.ranges[j - 1];
        boot_info.ranges[j] = r;
    }
}

void boot_parse(uint32_t magic, uint64_t info_phys)
{
    boot_info.cmdline = "";
    boot_info.loader_name = "";
    if (info_phys == 0 || info_phys >= (1ULL << 32))
        panic("boot: loader info block address %llx is not valid", (unsigned long long)info_phys);
    if (magic == MB1_LOADER_MAGIC) {
        parse_mb1(info_phys);
    } else if (magic == MB2_LOADER_MAGIC) {
        boot_info.multiboot2 = 1;
        parse_mb2(info_phys);
    } else {
        panic("boot: not started by a multiboot loader (EAX = 0x%08x)", magic);
    }
    if (boot_info.nranges == 0)
        panic("boot: the loader gave no memory map");
    sort_ranges();
}
