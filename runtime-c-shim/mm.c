/* Physical memory: frame bitmaps over the boot map, the engine heap, identity page tables. */
#include <stdint.h>
#include <string.h>
#include "boot.h"
#include "cpu.h"
#include "klog.h"
#include "mm.h"
#include "x86.h"

#define PAGE MM_PAGE_SIZE
#define MIB (1ULL << 20)
#define GIB (1ULL << 30)
#define LARGE (2 * MIB)
#define PTE_P 0x001ULL
#define PTE_RW 0x002ULL
#define PTE_PCD 0x010ULL
#define PTE_PS 0x080ULL
#define PTE_ADDR 0x000FFFFFFFFFF000ULL
#define HEAP_RANGES_MAX 64

extern uint64_t boot_pml4[512], boot_pdpt[512], boot_pd[2048];
extern char __stack_guard[], __stacks_start[], __stacks_end[];

/*
 * Two bitmaps, one bit per 4 KiB frame up to the top of RAM: free_map (1 = free) and
 * alloc_map (1 = handed out by mm_frames_alloc, so mm_frames_free can check its input).
 *
 * The engine heap and the frame pool never share a frame, even over time: frames come
 * top-down and never below frames_floor (the lowest frame ever handed out), the heap
 * grows bottom-up and only below it. A stale physView of freed guest memory therefore
 * can never alias the engine's heap.
 */
static uint64_t *free_map, *alloc_map;
static uint64_t nframes, free_frames, alloc_frames;
static uint64_t frames_floor;      /* frame index; nframes until the first allocation */
static uint64_t heap_top;          /* frame index above the highest heap frame */
static uint64_t meta_start, meta_end, meta_next; /* bitmaps and page tables */
static uint64_t mapped_top;
static uint64_t total_ram, module_bytes, heap_bytes;

struct span {
    uint64_t start, end;
};
static struct span heap[HEAP_RANGES_MAX];
static int nheap;

static uint64_t guard_pt[512] __attribute__((aligned(4096)));

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }
static uint64_t align_down(uint64_t v, uint64_t a) { return v & ~(a - 1); }
static int overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

static int bit(const uint64_t *map, uint64_t f) { return (map[f >> 6] >> (f & 63)) & 1; }

/* Sets bits [f, e) of map to v, a word at a time; returns how many bits changed. */
static uint64_t set_range(uint64_t *map, uint64_t f, uint64_t e, int v)
{
    uint64_t changed = 0;
    while (f < e) {
        uint64_t shift = f & 63, n = 64 - shift;
        if (n > e - f)
            n = e - f;
        uint64_t mask = (n == 64 ? ~0ULL : (1ULL << n) - 1) << shift, old = map[f >> 6];
        map[f >> 6] = v ? old | mask : old & ~mask;
        changed += (uint64_t)__builtin_popcountll(old ^ map[f >> 6]);
        f += n;
    }
    return changed;
}

/* Marks frames fully inside [base, base+len) free (RAM) ... */
static void mark_free(uint64_t base, uint64_t len)
{
    uint64_t f = align_up(base, PAGE) / PAGE, e = align_down(base + len, PAGE) / PAGE;
    free_frames += set_range(free_map, f, e < nframes ? e : nframes, 1);
}

/* ... and frames touching [base, base+len) used (everything that is not free RAM). */
static void mark_used(uint64_t base, uint64_t len)
{
    uint64_t f = align_down(base, PAGE) / PAGE, e = align_up(base + len, PAGE) / PAGE;
    free_frames -= set_range(free_map, f, e < nframes ? e : nframes, 0);
}

/* 1 if [base, base+len) is clear of the image, the loader's data and all non-RAM. */
static int clear_for_meta(uint64_t base, uint64_t len, uint64_t *skip_to)
{
    uint64_t img = (uint64_t)__image_start, img_len = (uint64_t)__image_end - img;
    if (overlaps(base, len, img, img_len)) {
        *skip_to = img + img_len;
        return 0;
    }
    for (size_t i = 0; i < boot_info.nreserved; i++) {
        const struct boot_range *r = &boot_info.reserved[i];
        if (overlaps(base, len, r->base, r->length)) {
            *skip_to = r->base + r->length;
            return 0;
        }
    }
    for (size_t i = 0; i < boot_info.nranges; i++) {
        const struct boot_range *r = &boot_info.ranges[i];
        if (r->type != 1 && overlaps(base, len, r->base, r->length)) {
            *skip_to = r->base + r->length;
            return 0;
        }
    }
    return 1;
}

/* Finds room for the allocator's own data in RAM above 1 MiB, before the bitmaps exist. */
static uint64_t place_meta(uint64_t size)
{
    for (size_t i = 0; i < boot_info.nranges; i++) {
        const struct boot_range *r = &boot_info.ranges[i];
        if (r->type != 1)
            continue;
        uint64_t at = align_up(r->base > MIB ? r->base : MIB, PAGE), skip;
        while (at + size <= r->base + r->length && at + size > at) {
            if (clear_for_meta(at, size, &skip))
                return at;
            at = align_up(skip, PAGE);
        }
    }
    panic("mm: no room for %llu KiB of frame bitmaps and page tables",
          (unsigned long long)(size >> 10));
}

/* A zeroed page-table page from the metadata area reserved for them. */
static uint64_t *meta_table(void)
{
    if (meta_next + PAGE > meta_end)
        panic("mm: page-table reserve exhausted");
    uint64_t *t = (uint64_t *)(uintptr_t)meta_next;
    meta_next += PAGE;
    memset(t, 0, PAGE);
    return t;
}

static uint64_t *next_level(uint64_t *entry)
{
    if (!(*entry & PTE_P))
        *entry = (uint64_t)(uintptr_t)meta_table() | PTE_P | PTE_RW;
    return (uint64_t *)(uintptr_t)(*entry & PTE_ADDR);
}

/* Identity-maps [4 GiB, top) with 1 GiB pages if the CPU has them, else 2 MiB pages. */
static void map_high(uint64_t top, int gb_pages)
{
    for (uint64_t a = 4 * GIB; a < top;) {
        uint64_t *pdpt = next_level(&boot_pml4[(a >> 39) & 511]);
        uint64_t *pdpte = &pdpt[(a >> 30) & 511];
        if (gb_pages) {
            *pdpte = a | PTE_P | PTE_RW | PTE_PS;
            a += GIB;
            continue;
        }
        uint64_t *pd = next_level(pdpte);
        for (int i = 0; i < 512; i++, a += LARGE)
            pd[i] = a | PTE_P | PTE_RW | PTE_PS;
    }
}

static int is_memory(uint32_t type) { return type == 1 || type == 3 || type == 4; }

/* 2 MiB pages below 4 GiB with no memory in them are device space (APICs, PCI BARs,
 * flash): make them UC- (PCD, PAT entry 2), so they are uncached even where firmware
 * left MTRRs loose, while an MTRR write-combining range (a framebuffer) still wins. */
static void uncache_holes(void)
{
    for (uint64_t i = 1; i < 2048; i++) {
        uint64_t base = i * LARGE;
        int mem = 0;
        for (size_t r = 0; r < boot_info.nranges && !mem; r++)
            mem = is_memory(boot_info.ranges[r].type) &&
                  overlaps(base, LARGE, boot_info.ranges[r].base, boot_info.ranges[r].length);
        if (!mem)
            boot_pd[i] |= PTE_PCD;
    }
}

/* Unmaps the page below the main stack by splitting its 2 MiB page into 4 KiB pages:
 * an overflow then faults into the #PF report instead of overwriting .bss. */
static void guard_stack(void)
{
    uint64_t g = (uint64_t)__stack_guard, base = align_down(g, LARGE);
    for (int i = 0; i < 512; i++)
        guard_pt[i] = (base + (uint64_t)i * PAGE) | PTE_P | PTE_RW;
    guard_pt[(g - base) / PAGE] = 0;
    boot_pd[g / LARGE] = (uint64_t)(uintptr_t)guard_pt | PTE_P | PTE_RW;
}

void mm_init(void)
{
    uint64_t ram_top = 0, mem_top = 0;
    for (size_t i = 0; i < boot_info.nranges; i++) {
        const struct boot_range *r = &boot_info.ranges[i];
        if (r->type == 1) {
            total_ram += r->length;
            if (r->base + r->length > ram_top)
                ram_top = r->base + r->length;
        }
        if (is_memory(r->type) && r->base + r->length > mem_top)
            mem_top = r->base + r->length;
    }
    for (size_t i = 0; i < boot_info.nmodules; i++)
        module_bytes += boot_info.modules[i].end - boot_info.modules[i].start;

    uint32_t id[4];
    cpu_cpuid(0x80000001, 0, id);
    int gb_pages = (id[3] >> 26) & 1;
    mapped_top = align_up(mem_top > 4 * GIB ? mem_top : 4 * GIB, GIB);
    uint64_t high = mapped_top - 4 * GIB;
    uint64_t tables = (align_up(mapped_top, 512 * GIB) / (512 * GIB)) * PAGE +
                      (gb_pages ? 0 : high / GIB * PAGE);

    nframes = align_down(ram_top, PAGE) / PAGE;
    uint64_t words = align_up(nframes, 64) / 64;
    uint64_t map_bytes = align_up(words * 8, PAGE);
    meta_start = place_meta(2 * map_bytes + tables);
    meta_end = meta_start + 2 * map_bytes + tables;
    meta_next = meta_start + 2 * map_bytes;
    free_map = (uint64_t *)(uintptr_t)meta_start;
    alloc_map = (uint64_t *)(uintptr_t)(meta_start + map_bytes);
    memset(free_map, 0, 2 * map_bytes);

    for (size_t i = 0; i < boot_info.nranges; i++)
        if (boot_info.ranges[i].type == 1)
            mark_free(boot_info.ranges[i].base, boot_info.ranges[i].length);
    for (size_t i = 0; i < boot_info.nranges; i++)
        if (boot_info.ranges[i].type != 1)
            mark_used(boot_info.ranges[i].base, boot_info.ranges[i].length);
    mark_used(0, MIB); /* BIOS data, EBDA, option ROMs, SMP trampolines later */
    mark_used((uint64_t)__image_start, (uint64_t)(__image_end - __image_start));
    mark_used(meta_start, meta_end - meta_start);
    for (size_t i = 0; i < boot_info.nreserved; i++)
        mark_used(boot_info.reserved[i].base, boot_info.reserved[i].length);
    frames_floor = nframes;

    map_high(mapped_top, gb_pages);
    uncache_holes();
    guard_stack();
    x86_write_cr3(x86_read_cr3()); /* drop every stale translation */

    klog("mm: %llu MiB RAM in %zu map ranges, %llu MiB free; identity map to %llu GiB "
         "(%s pages); frame bitmaps %llu KiB at %llx\n",
         (unsigned long long)(total_ram / MIB), boot_info.nranges,
         (unsigned long long)(free_frames * PAGE / MIB), (unsigned long long)(mapped_top / GIB),
         gb_pages ? "1 GiB" : "2 MiB", (unsigned long long)(2 * map_bytes >> 10),
         (unsigned long long)meta_start);
}

/* Lowest start of count free frames in [lo, hi), or -1. */
static int64_t find_up(uint64_t count, uint64_t lo, uint64_t hi)
{
    uint64_t run = 0, start = lo;
    for (uint64_t f = lo; f < hi;) {
        uint64_t w = free_map[f >> 6];
        if ((f & 63) == 0 && f + 64 <= hi && (w == 0 || w == ~0ULL)) {
            if (w == 0) {
                run = 0;
            } else {
                if (run == 0)
                    start = f;
                run += 64;
            }
            f += 64;
        } else {
            if ((w >> (f & 63)) & 1) {
                if (run++ == 0)
                    start = f;
            } else {
                run = 0;
            }
            f++;
        }
        if (run >= count)
            return (int64_t)start;
    }
    return -1;
}

/* Highest start of count free frames in [lo, hi), or -1. */
static int64_t find_down(uint64_t count, uint64_t lo, uint64_t hi)
{
    uint64_t run = 0, top = hi;
    for (uint64_t f = hi; f > lo;) {
        uint64_t w = free_map[(f - 1) >> 6];
        if ((f & 63) == 0 && f - 64 >= lo && (w == 0 || w == ~0ULL)) {
            if (w == 0) {
                run = 0;
            } else {
                if (run == 0)
                    top = f;
                run += 64;
            }
            f -= 64;
        } else {
            if ((w >> ((f - 1) & 63)) & 1) {
                if (run++ == 0)
                    top = f;
            } else {
                run = 0;
            }
            f--;
        }
        if (run >= count)
            return (int64_t)(top - count);
    }
    return -1;
}

static void take(uint64_t f, uint64_t count)
{
    set_range(free_map, f, f + count, 0);
    free_frames -= count;
}

/* Zeroes claimed frames, after the claim: interrupts stay on during a long memset. */
static void zero(uint64_t f, uint64_t count)
{
    memset((void *)(uintptr_t)(f * PAGE), 0, count * PAGE);
}

uint64_t mm_frames_alloc(uint64_t count)
{
    if (count == 0 || count > free_frames)
        return 0;
    uint64_t flags = x86_irq_save();
    int64_t f = find_down(count, heap_top, nframes);
    if (f >= 0) {
        take((uint64_t)f, count);
        set_range(alloc_map, (uint64_t)f, (uint64_t)f + count, 1);
        alloc_frames += count;
        if ((uint64_t)f < frames_floor)
            frames_floor = (uint64_t)f;
    }
    x86_irq_restore(flags);
    if (f < 0)
        return 0;
    zero((uint64_t)f, count);
    return (uint64_t)f * PAGE;
}

int mm_frames_free(uint64_t addr, uint64_t count)
{
    uint64_t f = addr / PAGE;
    if (count == 0 || addr % PAGE || f >= nframes || count > nframes - f)
        return -1;
    uint64_t flags = x86_irq_save();
    for (uint64_t i = 0; i < count; i++)
        if (!bit(alloc_map, f + i)) {
            x86_irq_restore(flags);
            return -1;
        }
    set_range(alloc_map, f, f + count, 0);
    set_range(free_map, f, f + count, 1);
    alloc_frames -= count;
    free_frames += count;
    x86_irq_restore(flags);
    return 0;
}

/* 1 if a heap chunk starting at start fits in the range list (merged or new). */
static int heap_can_add(uint64_t start)
{
    for (int i = 0; i < nheap; i++)
        if (heap[i].end == start)
            return 1;
    return nheap < HEAP_RANGES_MAX;
}

static void heap_add(uint64_t start, uint64_t end)
{
    for (int i = 0; i < nheap; i++)
        if (heap[i].end == start) {
            heap[i].end = end;
            return;
        }
    heap[nheap++] = (struct span){ start, end };
}

uint64_t mm_heap_grow(uint64_t bytes)
{
    uint64_t count = align_up(bytes, PAGE) / PAGE;
    if (bytes == 0 || count > free_frames)
        return 0;
    uint64_t flags = x86_irq_save();
    int64_t f;
    /* prefer the frames right after the last chunk, so the heap stays one range */
    if (heap_top > 0 && heap_top + count <= frames_floor &&
        find_up(count, heap_top, heap_top + count) == (int64_t)heap_top)
        f = (int64_t)heap_top;
    else
        f = find_up(count, 0, frames_floor);
    if (f >= 0 && !heap_can_add((uint64_t)f * PAGE))
        f = -1;
    if (f >= 0) {
        take((uint64_t)f, count);
        heap_add((uint64_t)f * PAGE, ((uint64_t)f + count) * PAGE);
        heap_bytes += count * PAGE;
        if ((uint64_t)f + count > heap_top)
            heap_top = (uint64_t)f + count;
    }
    x86_irq_restore(flags);
    if (f < 0)
        return 0;
    zero((uint64_t)f, count);
    return (uint64_t)f * PAGE;
}

int mm_is_mapped(uint64_t addr, uint64_t len)
{
    return addr + len >= addr && addr + len <= mapped_top;
}

int mm_phys_range_ok(uint64_t addr, uint64_t len)
{
    if (len == 0 || !mm_is_mapped(addr, len))
        return 0;
    if (overlaps(addr, len, (uint64_t)__image_start, (uint64_t)(__image_end - __image_start)) ||
        overlaps(addr, len, meta_start, meta_end - meta_start))
        return 0;
    for (int i = 0; i < nheap; i++)
        if (overlaps(addr, len, heap[i].start, heap[i].end - heap[i].start))
            return 0;
    /* Free frames may become heap or someone's guest memory later: refuse them too. */
    uint64_t f = addr / PAGE, e = align_up(addr + len, PAGE) / PAGE;
    if (e > nframes)
        e = nframes;
    for (; f < e; f++) {
        if ((f & 63) == 0 && f + 64 <= e && free_map[f >> 6] == 0) {
            f += 63;
            continue;
        }
        if (bit(free_map, f))
            return 0;
    }
    return 1;
}

void mm_get_stats(struct mm_stats *out)
{
    uint64_t stacks = (uint64_t)(__stacks_end - __stacks_start);
    out->total = total_ram;
    out->free = free_frames * PAGE;
    out->stacks = stacks;
    out->image = (uint64_t)(__image_end - __image_start) - stacks;
    out->heap = heap_bytes;
    out->heap_used = heap_used();
    out->frames_allocated = alloc_frames * PAGE;
    out->modules = module_bytes;
}
