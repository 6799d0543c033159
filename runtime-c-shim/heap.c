/* The engine heap: malloc and friends over chunks that grow on demand from mm_heap_grow. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "klog.h"
#include "mm.h"

/*
 * Every block starts with a 16-byte header: the size of the block just before it
 * (kept up to date for in-use and free blocks alike) and its own size, a multiple of
 * 16 that includes the header, with bit 0 set while in use. Payloads therefore sit at
 * 16-byte aligned addresses. A free block keeps its list links in its payload, so the
 * smallest block is 32 bytes.
 *
 * Each chunk from mm_heap_grow starts with a header-only in-use "fence" and ends with
 * an in-use zero-size "sentinel", so coalescing stops at chunk edges. A chunk that
 * mm hands out right after the previous one is merged into it (the old sentinel
 * becomes the start of the new free space).
 *
 * Free blocks of 32..1024 bytes sit in one exact-size bin per size (QuickJS makes
 * many small allocations of a few sizes: reuse is O(1), LIFO for cache warmth).
 * Larger free blocks sit in one bin per power of two, searched first-fit. A bitmap of
 * non-empty bins finds the next usable bin in O(1). Freed blocks coalesce with free
 * neighbours at once, which keeps large free runs whole.
 */

#define HEAP_HDR 16u
#define HEAP_MIN_BLOCK 32u
#define HEAP_INUSE 1u
#define HEAP_SMALL_MAX 1024u
#define HEAP_SMALL_BINS (HEAP_SMALL_MAX / 16 - 1)     /* sizes 32, 48, ..., 1024 */
#define HEAP_LARGE_BINS 54                            /* 2^10 .. 2^63 */
#define HEAP_NBINS (HEAP_SMALL_BINS + HEAP_LARGE_BINS)
#define HEAP_CHUNK_MIN (1u << 20)
/* Larger requests are refused outright: they could never be satisfied and would
 * overflow the size arithmetic. */
#define HEAP_MAX_REQUEST ((size_t)1 << 40)

struct heap_block {
    size_t prev_size;
    size_t size;                  /* block size | HEAP_INUSE */
    struct heap_block *next;      /* free blocks only */
    struct heap_block *prev;
};

static struct heap_block *heap_bins[HEAP_NBINS];
static uint64_t heap_bitmap[(HEAP_NBINS + 63) / 64];
static size_t heap_in_use;
static uintptr_t heap_last_chunk_end;

static inline size_t blk_size(const struct heap_block *b) { return b->size & ~(size_t)15; }
static inline int blk_used(const struct heap_block *b) { return b->size & HEAP_INUSE; }
static inline struct heap_block *blk_next(struct heap_block *b)
{
    return (struct heap_block *)((char *)b + blk_size(b));
}
static inline struct heap_block *blk_prev(struct heap_block *b)
{
    return (struct heap_block *)((char *)b - b->prev_size);
}
static inline struct heap_block *blk_of(void *p) { return (struct heap_block *)((char *)p - HEAP_HDR); }
static inline void *blk_payload(struct heap_block *b) { return (char *)b + HEAP_HDR; }

/* Sets b's size and flag and tells the following block about it. */
static inline void blk_set(struct heap_block *b, size_t size, size_t used)
{
    b->size = size | used;
    ((struct heap_block *)((char *)b + size))->prev_size = size;
}

static unsigned heap_bin_index(size_t size)
{
    if (size <= HEAP_SMALL_MAX)
        return (unsigned)(size / 16 - 2);
    unsigned log2 = 63u - (unsigned)__builtin_clzll(size);
    unsigned i = HEAP_SMALL_BINS + (log2 - 10);
    return i < HEAP_NBINS ? i : HEAP_NBINS - 1;
}

static void heap_bin_insert(struct heap_block *b)
{
    unsigned i = heap_bin_index(blk_size(b));
    b->prev = NULL;
    b->next = heap_bins[i];
    if (b->next)
        b->next->prev = b;
    heap_bins[i] = b;
    heap_bitmap[i / 64] |= 1ull << (i % 64);
}

static void heap_bin_remove(struct heap_block *b)
{
    unsigned i = heap_bin_index(blk_size(b));
    if (b->prev)
        b->prev->next = b->next;
    else
        heap_bins[i] = b->next;
    if (b->next)
        b->next->prev = b->prev;
    if (!heap_bins[i])
        heap_bitmap[i / 64] &= ~(1ull << (i % 64));
}

/* First non-empty bin with index >= from, or -1. */
static int heap_bin_find(unsigned from)
{
    for (unsigned w = from / 64; w < sizeof heap_bitmap / sizeof heap_bitmap[0]; w++) {
        uint64_t bits = heap_bitmap[w];
        if (w == from / 64)
            bits &= ~0ull << (from % 64);
        if (bits)
            return (int)(w * 64 + (unsigned)__builtin_ctzll(bits));
    }
    return -1;
}

/* Frees the size bytes at b: merges them with free neighbours and bins the result. */
static void heap_release(struct heap_block *b, size_t size)
{
    struct heap_block *next = (struct heap_block *)((char *)b + size);
    if (!blk_used(next)) {
        heap_bin_remove(next);
        size += blk_size(next);
    }
    struct heap_block *prev = blk_prev(b);
    if (!blk_used(prev)) {
        heap_bin_remove(prev);
        size += blk_size(prev);
        b = prev;
    }
    blk_set(b, size, 0);
    heap_bin_insert(b);
}

/* Shrinks in-use block b to size, returning the tail (if big enough) to the bins. */
static void heap_trim(struct heap_block *b, size_t size)
{
    size_t have = blk_size(b);
    if (have - size < HEAP_MIN_BLOCK)
        return;
    blk_set(b, size, HEAP_INUSE);
    heap_release(blk_next(b), have - size);
}

/* Asks mm for a chunk holding at least one free block of size bytes; 0 on failure. */
static int heap_grow(size_t size)
{
    /* A fresh chunk needs room for a fence and a sentinel besides the block. */
    uint64_t want = (uint64_t)size + 2 * HEAP_HDR;
    if (want < HEAP_CHUNK_MIN)
        want = HEAP_CHUNK_MIN;
    want = (want + MM_PAGE_SIZE - 1) & ~(MM_PAGE_SIZE - 1);
    uint64_t base = mm_heap_grow(want);
    if (!base)
        return 0;
    uintptr_t start = (uintptr_t)base, end = (uintptr_t)(base + want);
    struct heap_block *b;
    if (start == heap_last_chunk_end) {
        /* Contiguous with the previous chunk: its sentinel becomes our first header. */
        b = (struct heap_block *)(start - HEAP_HDR);
    } else {
        struct heap_block *fence = (struct heap_block *)start;
        fence->prev_size = 0;
        fence->size = HEAP_HDR | HEAP_INUSE;
        b = (struct heap_block *)(start + HEAP_HDR);
        b->prev_size = HEAP_HDR;
    }
    struct heap_block *sentinel = (struct heap_block *)(end - HEAP_HDR);
    size_t bsize = (size_t)((uintptr_t)sentinel - (uintptr_t)b);
    sentinel->size = HEAP_INUSE;
    blk_set(b, bsize, HEAP_INUSE);
    heap_last_chunk_end = end;
    heap_release(b, bsize);
    return 1;
}

/* Block size for a request of n payload bytes; 0 if the request is absurd. */
static inline size_t heap_block_size(size_t n)
{
    if (n > HEAP_MAX_REQUEST)
        return 0;
    size_t s = (n + HEAP_HDR + 15) & ~(size_t)15;
    return s < HEAP_MIN_BLOCK ? HEAP_MIN_BLOCK : s;
}

/* Finds and unlinks a free block of at least size bytes, or NULL. */
static struct heap_block *heap_take(size_t size)
{
    unsigned i = heap_bin_index(size);
    if (size > HEAP_SMALL_MAX) {
        /* Blocks in the request's own power-of-two bin may still be too small. */
        for (struct heap_block *b = heap_bins[i]; b; b = b->next) {
            if (blk_size(b) >= size) {
                heap_bin_remove(b);
                return b;
            }
        }
        i++;
    }
    int j = heap_bin_find(i);
    if (j < 0)
        return NULL;
    struct heap_block *b = heap_bins[j];
    heap_bin_remove(b);
    return b;
}

/* Allocates a block of exactly size bytes (already rounded), or NULL. */
static struct heap_block *heap_alloc_block(size_t size)
{
    struct heap_block *b = heap_take(size);
    if (!b) {
        if (!heap_grow(size))
            return NULL;
        b = heap_take(size);
        if (!b)
            panic("heap: fresh chunk cannot hold %zu bytes", size);
    }
    blk_set(b, blk_size(b), HEAP_INUSE);
    heap_trim(b, size);
    heap_in_use += blk_size(b);
    return b;
}

/* Allocates n bytes, 16-byte aligned; NULL when memory is exhausted. */
void *malloc(size_t n)
{
    size_t size = heap_block_size(n);
    if (!size) {
        errno = ENOMEM;
        return NULL;
    }
    struct heap_block *b = heap_alloc_block(size);
    if (!b) {
        errno = ENOMEM;
        return NULL;
    }
    return blk_payload(b);
}

/* Returns a live pointer's block, stopping on pointers the heap never handed out. */
static struct heap_block *heap_check(void *p, const char *who)
{
    struct heap_block *b = blk_of(p);
    if (((uintptr_t)p & 15) || !blk_used(b) || blk_size(b) < HEAP_MIN_BLOCK ||
        blk_next(b)->prev_size != blk_size(b))
        panic("heap: %s(%p): not a live heap block (double free or corruption)", who, p);
    return b;
}

/* Frees a block from malloc and friends; NULL is ignored. */
void free(void *p)
{
    if (!p)
        return;
    struct heap_block *b = heap_check(p, "free");
    size_t size = blk_size(b);
    heap_in_use -= size;
    heap_release(b, size);
}

/* Allocates zeroed room for count objects of size bytes; NULL on overflow or exhaustion. */
void *calloc(size_t count, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(count, size, &n)) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = malloc(n);
    if (p)
        memset(p, 0, n);
    return p;
}

/* Resizes a block, in place when it shrinks or its free neighbour has room. */
void *realloc(void *p, size_t n)
{
    if (!p)
        return malloc(n);
    struct heap_block *b = heap_check(p, "realloc");
    size_t size = heap_block_size(n);
    if (!size) {
        errno = ENOMEM;
        return NULL;
    }
    size_t have = blk_size(b);
    if (size <= have) {
        heap_trim(b, size);
        heap_in_use -= have - blk_size(b);
        return p;
    }
    struct heap_block *next = blk_next(b);
    if (!blk_used(next) && have + blk_size(next) >= size) {
        heap_bin_remove(next);
        blk_set(b, have + blk_size(next), HEAP_INUSE);
        heap_trim(b, size);
        heap_in_use += blk_size(b) - have;
        return p;
    }
    void *q = malloc(n);
    if (!q)
        return NULL;
    memcpy(q, p, have - HEAP_HDR);
    free(p);
    return q;
}

/* Usable bytes in a block from malloc (at least what was asked for). */
size_t malloc_usable_size(void *p)
{
    return p ? blk_size(heap_check(p, "malloc_usable_size")) - HEAP_HDR : 0;
}

/* Allocates n bytes aligned to align (a power of two); NULL with EINVAL or ENOMEM. */
void *aligned_alloc(size_t align, size_t n)
{
    if (align == 0 || (align & (align - 1))) {
        errno = EINVAL;
        return NULL;
    }
    if (align <= 16)
        return malloc(n);
    if (align > HEAP_MAX_REQUEST || n > HEAP_MAX_REQUEST) {
        errno = ENOMEM;
        return NULL;
    }
    /* Over-allocate, then free the misaligned head and the unused tail. */
    char *raw = malloc(n + align + HEAP_MIN_BLOCK);
    if (!raw)
        return NULL;
    uintptr_t a = ((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1);
    if (a != (uintptr_t)raw && a - (uintptr_t)raw < HEAP_MIN_BLOCK)
        a += align; /* the head must be big enough to stand as a free block */
    struct heap_block *b = blk_of(raw);
    if (a != (uintptr_t)raw) {
        size_t lead = a - (uintptr_t)raw, total = blk_size(b);
        struct heap_block *nb = blk_of((void *)a);
        blk_set(b, lead, HEAP_INUSE);
        blk_set(nb, total - lead, HEAP_INUSE);
        heap_in_use -= lead;
        heap_release(b, lead);
        b = nb;
    }
    size_t before = blk_size(b);
    heap_trim(b, heap_block_size(n));
    heap_in_use -= before - blk_size(b);
    return blk_payload(b);
}

/* POSIX aligned allocation: 0, EINVAL for a bad alignment, or ENOMEM. */
int posix_memalign(void **out, size_t align, size_t n)
{
    if (align < sizeof(void *) || (align & (align - 1)))
        return EINVAL;
    void *p = aligned_alloc(align, n);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

/* Old name for aligned_alloc, kept so no libc member with another malloc gets linked. */
void *memalign(size_t align, size_t n)
{
    return aligned_alloc(align, n);
}

/* Bytes of heap blocks (headers included) handed out and not yet freed. */
size_t heap_used(void)
{
    return heap_in_use;
}
