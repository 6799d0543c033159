/* Physical memory: the frame allocator over the boot memory map, and the engine heap. */
#ifndef ZAZEN_MM_H
#define ZAZEN_MM_H
#include <stdint.h>
#include <stddef.h>

#define MM_PAGE_SIZE 4096ULL

/*
 * Builds the frame allocator from boot_info's map, excluding the image, the loader's
 * data and modules, and the first MiB; identity-maps all RAM (and the first 4 GiB).
 */
void mm_init(void);

/* Allocates count contiguous zeroed frames; returns the physical address or 0. */
uint64_t mm_frames_alloc(uint64_t count);

/* Frees frames from mm_frames_alloc; returns 0, or -1 if the range was not allocated. */
int mm_frames_free(uint64_t addr, uint64_t count);

/* 1 if [addr, addr+len) is mapped memory outside the shim's image, stacks and heap;
 * also refused: the allocator's own bitmaps and page tables, and free frames (they
 * may become heap or another owner's memory later). Frames from mm_frames_alloc,
 * modules, firmware tables and device space below 4 GiB are fine. */
int mm_phys_range_ok(uint64_t addr, uint64_t len);

/* 1 if all of [addr, addr+len) is identity-mapped (the first 4 GiB and all RAM). */
int mm_is_mapped(uint64_t addr, uint64_t len);

struct mm_stats {
    uint64_t total, free, image, stacks, heap, heap_used, frames_allocated, modules;
};

/* Fills in the current memory accounting. */
void mm_get_stats(struct mm_stats *out);

/*
 * Hands the engine heap (heap.c) another zeroed, contiguous chunk of at least bytes
 * (rounded up to whole frames); returns its physical (= virtual) address or 0. Heap
 * frames count as "heap" in mm_stats and are refused by mm_phys_range_ok. The heap
 * grows on demand, so Domain-0's memory is what zazen really uses.
 */
uint64_t mm_heap_grow(uint64_t bytes);

/* Bytes the engine heap (heap.c, malloc family) has handed out and not freed. */
size_t heap_used(void);

#endif
