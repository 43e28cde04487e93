/*
 * heap.c - the kernel heap (see heap.h).
 *
 * Design: one contiguous virtual range from HEAP_VIRTUAL_BASE, cut into
 * blocks that follow each other without gaps. Every block starts with a
 * header and ends with a footer (a "boundary tag", Knuth, TAOCP Vol. 1,
 * 2.5), both recording the block's size and state, so from any block we
 * reach the next one (header + size) and the previous one (its footer
 * sits just below our header) in O(1):
 *
 *   used block:  [header 32][caller's bytes ...][tail canary 8][padding][footer 16]
 *   free block:  [header 32][next, prev links 16][...............][footer 16]
 *
 * The header is state, size, requested size and the front canary, which
 * sits right below the caller's first byte; the tail canary sits right
 * after the caller's last byte. Block sizes are multiples of 16 and blocks
 * start 16-aligned, so the caller's bytes (header + 32) are 16-aligned.
 *
 * Free blocks are also on a doubly linked list (the links live in the
 * block itself). kmalloc takes the first free block big enough (first fit)
 * and splits off the rest when a block of its own fits in it. kfree merges
 * the block with a free neighbour on either side (coalescing), so two free
 * blocks are never adjacent. When nothing fits, the heap grows: frames
 * are mapped at its end with the paging API and join the last block if
 * that one is free.
 *
 * The guards: a state word that is one of two unlikely 64-bit values
 * (a pointer that is not a block start almost never has either; a freed
 * block has HEAP_STATE_FREE, which is how a double free is told apart),
 * and the two canaries, checked on every kfree and krealloc and by
 * heap_stats(). Any mismatch panics with the problem and the address.
 */
#include "mm/heap.h"

#include <libk/align.h>
#include <libk/string.h>

#include "mm/frames.h"
#include "mm/paging.h"
#include "mm/virtual_layout.h"
#include "panic.h"

/* Unlikely values, easy to spot in a memory dump. */
#define HEAP_STATE_USED 0x55534544424C4F43ull /* "COLBDESU": "USEDBLOC" as bytes */
#define HEAP_STATE_FREE 0x45455246424C4F43ull /* "FREEBLOC" as bytes */
#define HEAP_FRONT_CANARY 0xF0F0CA4A4AC0F0F0ull
#define HEAP_TAIL_CANARY 0x0F0FCA4A4AC00F0Full

/* How many pages the heap maps at start and at least per growth step:
 * 64 KiB, a few hundred small blocks, so that growing is rare. */
#define HEAP_INITIAL_PAGES 16u
#define HEAP_GROW_MIN_PAGES 16u

struct block_header {
    uint64_t state;
    uint64_t size;      /* the whole block, header to footer */
    uint64_t requested; /* the caller's size; 0 while free */
    uint64_t front_canary;
};

struct block_footer {
    uint64_t size;
    uint64_t state;
};

struct free_links {
    struct block_header *next;
    struct block_header *prev;
};

#define HEADER_SIZE sizeof(struct block_header)
#define FOOTER_SIZE sizeof(struct block_footer)
#define TAIL_CANARY_SIZE sizeof(uint64_t)
/* The smallest block: a free block must hold its links. */
#define MIN_BLOCK_SIZE (HEADER_SIZE + sizeof(struct free_links) + FOOTER_SIZE)

_Static_assert(HEADER_SIZE % HEAP_ALIGNMENT == 0, "payload must stay 16-byte aligned");
_Static_assert(MIN_BLOCK_SIZE % HEAP_ALIGNMENT == 0, "block sizes are multiples of 16");

static uint64_t heap_start; /* HEAP_VIRTUAL_BASE */
static uint64_t heap_end;   /* first byte not mapped */
static struct block_header *free_list;

static struct block_footer *footer_of(struct block_header *block)
{
    return (struct block_footer *)((char *)block + block->size - FOOTER_SIZE);
}

static struct free_links *links_of(struct block_header *block)
{
    return (struct free_links *)(block + 1);
}

static void *payload_of(struct block_header *block)
{
    return block + 1;
}

static struct block_header *block_of(void *payload)
{
    return (struct block_header *)payload - 1;
}

static struct block_header *next_block(struct block_header *block)
{
    uint64_t next = (uint64_t)(uintptr_t)block + block->size;
    return next < heap_end ? (struct block_header *)(uintptr_t)next : NULL;
}

static struct block_header *previous_block(struct block_header *block)
{
    if ((uint64_t)(uintptr_t)block == heap_start)
        return NULL;
    struct block_footer *footer = (struct block_footer *)block - 1;
    return (struct block_header *)((char *)block - footer->size);
}

/* The block size that holds `requested` bytes with its guards. */
static uint64_t block_size_for(uint64_t requested)
{
    uint64_t size =
        align_up(HEADER_SIZE + requested + TAIL_CANARY_SIZE + FOOTER_SIZE, HEAP_ALIGNMENT);
    return size < MIN_BLOCK_SIZE ? MIN_BLOCK_SIZE : size;
}

/* Write size and state into both tags. */
static void set_tags(struct block_header *block, uint64_t size, uint64_t state)
{
    block->size = size;
    block->state = state;
    struct block_footer *footer = footer_of(block);
    footer->size = size;
    footer->state = state;
}

/* The tail canary is 8 bytes at any byte offset: copy it, do not cast. */
static void write_tail_canary(struct block_header *block)
{
    uint64_t canary = HEAP_TAIL_CANARY;
    memcpy((char *)payload_of(block) + block->requested, &canary, sizeof canary);
}

static bool tail_canary_intact(struct block_header *block)
{
    uint64_t canary;
    memcpy(&canary, (char *)payload_of(block) + block->requested, sizeof canary);
    return canary == HEAP_TAIL_CANARY;
}

/* ---- the free list ---- */

static void list_insert(struct block_header *block)
{
    struct free_links *links = links_of(block);
    links->prev = NULL;
    links->next = free_list;
    if (free_list)
        links_of(free_list)->prev = block;
    free_list = block;
}

static void list_remove(struct block_header *block)
{
    struct free_links *links = links_of(block);
    if (links->prev)
        links_of(links->prev)->next = links->next;
    else
        free_list = links->next;
    if (links->next)
        links_of(links->next)->prev = links->prev;
}

/* Make [block, block + size) a free block, merged with free neighbours,
 * and put it on the free list. */
static void make_free(struct block_header *block, uint64_t size)
{
    // LAB heap BEGIN
    // TODO: make [block, block + size) one free block: requested and the
    // TODO: front canary 0, both tags (set_tags) saying HEAP_STATE_FREE.
    // TODO: Merge it with the block after it and with the block before it
    // TODO: when those are free (take them off the free list first), so
    // TODO: that no two free blocks are ever neighbours; then put the
    // TODO: merged block on the free list.
    // HINT: next_block() and previous_block() find the neighbours in O(1):
    // HINT: the footer below a header gives the previous block's size
    // HINT: (boundary tags, Knuth, TAOCP Vol. 1, 2.5).
    // HINT: list_insert() and list_remove() keep the free list.
    // STUB: (void)block;
    // STUB: (void)size;
    // STUB: (void)previous_block;
    // STUB: (void)list_insert;
    // STUB: panic("heap: make_free is not written yet (lab heap)");
    block->requested = 0;
    block->front_canary = 0;
    set_tags(block, size, HEAP_STATE_FREE);

    struct block_header *next = next_block(block);
    if (next && next->state == HEAP_STATE_FREE) {
        list_remove(next);
        set_tags(block, block->size + next->size, HEAP_STATE_FREE);
    }
    struct block_header *previous = previous_block(block);
    if (previous && previous->state == HEAP_STATE_FREE) {
        list_remove(previous);
        set_tags(previous, previous->size + block->size, HEAP_STATE_FREE);
        block = previous;
    }
    list_insert(block);
    // LAB heap END
}

/* Turn the free block `block` (off the list) into a used one of `size`
 * bytes for `requested`, giving any large enough rest back as free. */
static void *make_used(struct block_header *block, uint64_t size, uint64_t requested)
{
    // LAB heap BEGIN
    // TODO: `block` is free and off the list, at least `size` bytes. When
    // TODO: the rest (its size - size) can hold a block of its own
    // TODO: (MIN_BLOCK_SIZE), cut it off and make_free() it; else the
    // TODO: whole block is used. Tag the block HEAP_STATE_USED, record
    // TODO: `requested`, write both canaries, and return the caller's
    // TODO: first byte (payload_of).
    // HINT: The front canary lives in the header, right below the caller's
    // HINT: bytes; write_tail_canary() puts the tail one right after them.
    // STUB: (void)block;
    // STUB: (void)size;
    // STUB: (void)requested;
    // STUB: panic("heap: make_used is not written yet (lab heap)");
    uint64_t rest = block->size - size;
    if (rest >= MIN_BLOCK_SIZE) {
        set_tags(block, size, HEAP_STATE_USED);
        make_free((struct block_header *)((char *)block + size), rest);
    } else {
        set_tags(block, block->size, HEAP_STATE_USED);
    }
    block->requested = requested;
    block->front_canary = HEAP_FRONT_CANARY;
    write_tail_canary(block);
    return payload_of(block);
    // LAB heap END
}

/* ---- growing ---- */

/* Map at least `bytes` more at the heap's end; false when frames or the
 * heap's virtual range ran out (what was mapped stays, as free space). */
static bool grow(uint64_t bytes)
{
    uint64_t pages = align_up(bytes, PAGE_SIZE) / PAGE_SIZE;
    if (pages < HEAP_GROW_MIN_PAGES)
        pages = HEAP_GROW_MIN_PAGES;
    uint64_t old_end = heap_end;
    bool complete = true;
    for (uint64_t i = 0; i < pages; i++) {
        if (heap_end + PAGE_SIZE > heap_start + HEAP_VIRTUAL_SIZE) {
            complete = false;
            break;
        }
        uint64_t frame = frame_alloc();
        if (frame == 0) {
            complete = false;
            break;
        }
        enum paging_status status = paging_map(heap_end, frame, PAGE_WRITABLE | PAGE_NO_EXECUTE);
        if (status != PAGING_OK)
            panic("heap: cannot map 0x%016llx: %s", (unsigned long long)heap_end,
                  paging_status_name(status));
        heap_end += PAGE_SIZE;
    }
    if (heap_end > old_end)
        make_free((struct block_header *)(uintptr_t)old_end, heap_end - old_end);
    return complete;
}

void heap_init(void)
{
    heap_start = heap_end = HEAP_VIRTUAL_BASE;
    free_list = NULL;
    if (!grow(HEAP_INITIAL_PAGES * PAGE_SIZE))
        panic("heap: no memory for the first %u pages", HEAP_INITIAL_PAGES);
}

uint64_t heap_base(void)
{
    return heap_start;
}

/* ---- the checks ---- */

/*
 * The block behind a pointer the caller gives back (to kfree, krealloc),
 * after every check; panics, naming `who` and the pointer, if one fails.
 */
static struct block_header *checked_block(const char *who, void *pointer)
{
    uint64_t address = (uint64_t)(uintptr_t)pointer;
    if (address < heap_start + HEADER_SIZE || address >= heap_end)
        panic("heap: %s(0x%016llx): not a heap pointer (the heap is 0x%016llx-0x%016llx)", who,
              (unsigned long long)address, (unsigned long long)heap_start,
              (unsigned long long)heap_end);
    if (address % HEAP_ALIGNMENT != 0)
        panic("heap: %s(0x%016llx): not a pointer kmalloc returned (not 16-byte aligned)", who,
              (unsigned long long)address);
    struct block_header *block = block_of(pointer);
    // LAB heap BEGIN
    // TODO: check the block's guards before anyone trusts it, and panic
    // TODO: with "heap: WHO(0xADDRESS): " and the problem: "double free:
    // TODO: the block is already free" (state HEAP_STATE_FREE); "not the
    // TODO: start of a heap block, or its header was overwritten (state
    // TODO: 0x...)" (any other state than HEAP_STATE_USED); "heap
    // TODO: underrun: ..." (front canary changed); a size or footer that
    // TODO: cannot be right; "heap overrun: the N-byte block was written
    // TODO: past its end ..." (tail canary changed). Return the block.
    // HINT: Check the state first: a pointer into the middle of a block
    // HINT: has no header, so nothing else there means anything.
    // HINT: tail_canary_intact() and footer_of() are above.
    // STUB: (void)who;
    // STUB: (void)tail_canary_intact;
    // STUB: return block;
    if (block->state == HEAP_STATE_FREE)
        panic("heap: %s(0x%016llx): double free: the block is already free", who,
              (unsigned long long)address);
    if (block->state != HEAP_STATE_USED)
        panic("heap: %s(0x%016llx): not the start of a heap block, or its header was "
              "overwritten (state 0x%016llx)",
              who, (unsigned long long)address, (unsigned long long)block->state);
    if (block->front_canary != HEAP_FRONT_CANARY)
        panic("heap: %s(0x%016llx): heap underrun: the canary before the block was "
              "overwritten (0x%016llx)",
              who, (unsigned long long)address, (unsigned long long)block->front_canary);
    if (block->size % HEAP_ALIGNMENT != 0 || block->size < MIN_BLOCK_SIZE ||
        block->size > heap_end - (uint64_t)(uintptr_t)block ||
        block->requested > block->size - HEADER_SIZE - TAIL_CANARY_SIZE - FOOTER_SIZE ||
        footer_of(block)->size != block->size || footer_of(block)->state != block->state)
        panic("heap: %s(0x%016llx): the block's header or footer is damaged (size %llu, "
              "requested %llu)",
              who, (unsigned long long)address, (unsigned long long)block->size,
              (unsigned long long)block->requested);
    if (!tail_canary_intact(block))
        panic("heap: %s(0x%016llx): heap overrun: the %llu-byte block was written past its "
              "end (canary at 0x%016llx)",
              who, (unsigned long long)address, (unsigned long long)block->requested,
              (unsigned long long)(address + block->requested));
    return block;
    // LAB heap END
}

/* ---- the API ---- */

void *kmalloc(size_t size)
{
    if (size == 0 || size > HEAP_VIRTUAL_SIZE)
        return NULL;
    uint64_t needed = block_size_for(size);
    for (;;) {
        for (struct block_header *block = free_list; block; block = links_of(block)->next) {
            if (block->size >= needed) {
                list_remove(block);
                return make_used(block, needed, size);
            }
        }
        /* Nothing fits: grow by what is missing (the last block, if free,
         * is merged with the new pages). */
        if (!grow(needed))
            return NULL;
    }
}

void kfree(void *pointer)
{
    if (pointer == NULL)
        return;
    struct block_header *block = checked_block("kfree", pointer);
    make_free(block, block->size);
}

void *krealloc(void *pointer, size_t size)
{
    if (pointer == NULL)
        return kmalloc(size);
    if (size == 0) {
        kfree(pointer);
        return NULL;
    }
    struct block_header *block = checked_block("krealloc", pointer);
    if (size > HEAP_VIRTUAL_SIZE)
        return NULL;
    uint64_t needed = block_size_for(size);

    /* Grow in place by taking a free block that follows. */
    struct block_header *next = next_block(block);
    if (needed > block->size && next && next->state == HEAP_STATE_FREE &&
        block->size + next->size >= needed) {
        list_remove(next);
        set_tags(block, block->size + next->size, HEAP_STATE_USED);
    }
    if (needed <= block->size) {
        /* Fits where it is: hand back the tail if a block fits there. */
        uint64_t rest = block->size - needed;
        if (rest >= MIN_BLOCK_SIZE) {
            set_tags(block, needed, HEAP_STATE_USED);
            make_free((struct block_header *)((char *)block + needed), rest);
        }
        block->requested = size;
        write_tail_canary(block);
        return pointer;
    }

    void *moved = kmalloc(size);
    if (moved == NULL)
        return NULL;
    memcpy(moved, pointer, block->requested);
    kfree(pointer);
    return moved;
}

void *kcalloc(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size)
        return NULL; /* count * size overflows */
    void *pointer = kmalloc(count * size);
    if (pointer)
        memset(pointer, 0, count * size);
    return pointer;
}

struct heap_stats heap_stats(void)
{
    struct heap_stats stats = {0};
    stats.heap_bytes = heap_end - heap_start;
    for (uint64_t at = heap_start; at < heap_end;) {
        struct block_header *block = (struct block_header *)(uintptr_t)at;
        if (block->state == HEAP_STATE_USED) {
            checked_block("heap_stats", payload_of(block));
            stats.used_blocks++;
            stats.used_block_bytes += block->size;
            stats.requested_bytes += block->requested;
        } else if (block->state == HEAP_STATE_FREE && block->size >= MIN_BLOCK_SIZE &&
                   block->size % HEAP_ALIGNMENT == 0 && block->size <= heap_end - at &&
                   footer_of(block)->size == block->size) {
            stats.free_blocks++;
            stats.free_block_bytes += block->size;
            uint64_t fits = block->size - HEADER_SIZE - TAIL_CANARY_SIZE - FOOTER_SIZE;
            if (fits > stats.largest_free)
                stats.largest_free = fits;
        } else {
            panic("heap: heap_stats: the block at 0x%016llx is damaged (state 0x%016llx, "
                  "size %llu)",
                  (unsigned long long)at, (unsigned long long)block->state,
                  (unsigned long long)block->size);
        }
        at += block->size;
    }
    /* Every free block is on the list, and nothing else is. */
    uint64_t listed = 0;
    for (struct block_header *block = free_list; block; block = links_of(block)->next)
        listed++;
    if (listed != stats.free_blocks)
        panic("heap: heap_stats: %llu free blocks in the heap but %llu on the free list",
              (unsigned long long)stats.free_blocks, (unsigned long long)listed);
    return stats;
}
