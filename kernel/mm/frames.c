/*
 * frames.c - the physical frame allocator (see frames.h).
 *
 * Design: two bitmaps with one bit per 4 KiB frame, from physical address
 * 0 up to the end of the highest usable RAM the identity map reaches.
 *
 *   managed  bit set: the frame is usable RAM and not reserved, so the
 *            allocator may hand it out. Fixed after frames_init().
 *   free     bit set: the frame is managed and not handed out now.
 *
 * A bitmap costs a fixed 2 bits per 4 KiB of address space (64 KiB per
 * GiB), needs no memory from the frames it describes, and makes the two
 * mistakes frame_free() must catch cheap to tell apart: a frame whose
 * managed bit is clear was never ours (a reserved frame), one whose free
 * bit is already set was freed before (a double free). A free list
 * threaded through the free frames would be O(1) per call but could tell
 * neither.
 *
 * frame_alloc() looks for a non-zero 64-bit word of the free bitmap,
 * starting where the last search ended (so a run of allocations does not
 * rescan the full words at the bottom each time), and takes its lowest set
 * bit: at most frames / 64 word reads when memory is nearly full.
 *
 * The bitmaps themselves live in the first usable RAM above 1 MiB that
 * holds them and no reservation, and are then reserved too.
 */
#include "mm/frames.h"

#include <libk/align.h>
#include <libk/string.h>

#include "panic.h"

#define BITS_PER_WORD 64u
#define MAX_RESERVATIONS 8

static uint64_t *managed_bits;
static uint64_t *free_bits;
static uint64_t frame_count; /* frames the bitmaps describe: [0, frame_count * FRAME_SIZE) */
static uint64_t word_count;
static uint64_t next_word; /* where frame_alloc's search starts */
static uint64_t managed_total;
static uint64_t free_total;

static struct frame_reservation reservations[MAX_RESERVATIONS];
static size_t reservation_count;

static void reserve(const char *what, uint64_t start, uint64_t end)
{
    if (start >= end)
        return;
    if (reservation_count == MAX_RESERVATIONS)
        panic("frames: more than %d reserved ranges", MAX_RESERVATIONS);
    reservations[reservation_count++] = (struct frame_reservation){what, start, end};
}

/* The reservation that holds `address`, or NULL. */
static const struct frame_reservation *reservation_at(uint64_t address)
{
    for (size_t i = 0; i < reservation_count; i++)
        if (address >= reservations[i].start && address < reservations[i].end)
            return &reservations[i];
    return NULL;
}

/* The first reservation overlapping [start, end), or NULL. */
static const struct frame_reservation *reservation_overlapping(uint64_t start, uint64_t end)
{
    for (size_t i = 0; i < reservation_count; i++)
        if (start < reservations[i].end && reservations[i].start < end)
            return &reservations[i];
    return NULL;
}

/* Set (value true) or clear bits [first, first + count) of `bits`. */
static void set_bits(uint64_t *bits, uint64_t first, uint64_t count, bool value)
{
    for (uint64_t frame = first; frame < first + count;) {
        uint64_t word = frame / BITS_PER_WORD, bit = frame % BITS_PER_WORD;
        if (bit == 0 && first + count - frame >= BITS_PER_WORD) {
            bits[word] = value ? ~0ull : 0; /* a whole word at once */
            frame += BITS_PER_WORD;
            continue;
        }
        if (value)
            bits[word] |= 1ull << bit;
        else
            bits[word] &= ~(1ull << bit);
        frame++;
    }
}

/* Set bits in a word. (GCC's __builtin_popcountll needs libgcc's
 * __popcountdi2 on CPUs without POPCNT, and the kernel has no libgcc.)
 * Each step clears the lowest set bit. */
static unsigned int bits_set(uint64_t word)
{
    unsigned int n = 0;
    for (; word != 0; word &= word - 1)
        n++;
    return n;
}

static bool test_bit(const uint64_t *bits, uint64_t frame)
{
    return (bits[frame / BITS_PER_WORD] >> (frame % BITS_PER_WORD)) & 1;
}

/*
 * Find `bytes` of usable RAM for the bitmaps: inside a usable range, above
 * 1 MiB, below `limit`, clear of every reservation. Returns 0 if none.
 */
static uint64_t place_bitmaps(const struct memory_range *map, size_t count, uint64_t bytes,
                              uint64_t limit)
{
    for (size_t i = 0; i < count; i++) {
        if (map[i].type != MEMORY_TYPE_USABLE)
            continue;
        uint64_t start = map[i].base < FRAMES_LOW_MEMORY_END ? FRAMES_LOW_MEMORY_END : map[i].base;
        uint64_t end = map[i].base + map[i].length;
        if (end > limit || end < map[i].base) /* clamp; a range ending at 2^64 wraps */
            end = limit;
        while (start < end && end - start >= bytes) {
            const struct frame_reservation *r = reservation_overlapping(start, start + bytes);
            if (r == NULL)
                return start;
            start = align_up(r->end, FRAME_SIZE); /* try just past it */
        }
    }
    return 0;
}

void frames_init(const struct boot_info *boot_info, const struct memory_range *map, size_t count)
{
    /* What the bitmaps must cover: up to the end of the highest usable
     * range, but no further than the identity map, through which we reach
     * every frame. Sanitised usable ranges are page-aligned, and so is
     * identity_map_end (a multiple of 2 MiB at least). */
    uint64_t limit = 0;
    for (size_t i = 0; i < count; i++) {
        if (map[i].type != MEMORY_TYPE_USABLE)
            continue;
        uint64_t end = map[i].base + map[i].length;
        if (end < map[i].base)
            end = UINT64_MAX; /* reaches 2^64 */
        if (end > limit)
            limit = end;
    }
    if (limit > boot_info->identity_map_end)
        limit = align_down(boot_info->identity_map_end, FRAME_SIZE);
    frame_count = limit / FRAME_SIZE;
    word_count = (frame_count + BITS_PER_WORD - 1) / BITS_PER_WORD;
    uint64_t bitmap_bytes = word_count * sizeof(uint64_t);

    /* Everything the boot information says is in use. Most of it lies
     * below 1 MiB today and is covered twice; it is listed anyway so the
     * allocator stays right should the loader move things. */
    reserve("low memory below 1 MiB (frame 0, BIOS, loader)", 0, FRAMES_LOW_MEMORY_END);
    reserve("boot information", (uint64_t)(uintptr_t)boot_info,
            (uint64_t)(uintptr_t)boot_info + boot_info->size);
    reserve("loader memory", boot_info->loader_start, boot_info->loader_end);
    reserve("loader page tables", boot_info->page_tables_start, boot_info->page_tables_end);
    reserve("loader stack", boot_info->stack_bottom, boot_info->stack_top);
    reserve("kernel image", align_down(boot_info->kernel_start, FRAME_SIZE),
            align_up(boot_info->kernel_end, FRAME_SIZE));

    uint64_t bitmaps_bytes = align_up(2 * bitmap_bytes, FRAME_SIZE);
    uint64_t bitmaps = place_bitmaps(map, count, bitmaps_bytes, limit);
    if (bitmaps == 0)
        panic("frames: no usable memory above 1 MiB for the %llu-byte frame bitmaps",
              (unsigned long long)bitmaps_bytes);
    reserve("frame bitmaps", bitmaps, bitmaps + bitmaps_bytes);
    managed_bits = (uint64_t *)(uintptr_t)bitmaps;
    free_bits = (uint64_t *)(uintptr_t)(bitmaps + bitmap_bytes);

    /* Managed = usable, minus every reservation. */
    memset(managed_bits, 0, bitmap_bytes);
    for (size_t i = 0; i < count; i++) {
        if (map[i].type != MEMORY_TYPE_USABLE || map[i].base >= limit)
            continue;
        uint64_t end = map[i].base + map[i].length;
        if (end > limit || end < map[i].base)
            end = limit;
        set_bits(managed_bits, map[i].base / FRAME_SIZE, (end - map[i].base) / FRAME_SIZE, true);
    }
    for (size_t i = 0; i < reservation_count; i++) {
        uint64_t first = reservations[i].start / FRAME_SIZE;
        uint64_t end = align_up(reservations[i].end, FRAME_SIZE) / FRAME_SIZE;
        if (end > frame_count)
            end = frame_count;
        if (first < end)
            set_bits(managed_bits, first, end - first, false);
    }

    /* Every managed frame starts free. */
    memcpy(free_bits, managed_bits, bitmap_bytes);
    managed_total = 0;
    for (uint64_t w = 0; w < word_count; w++)
        managed_total += bits_set(managed_bits[w]);
    free_total = managed_total;
    next_word = 0;
}

uint64_t frame_alloc(void)
{
    // LAB frames BEGIN
    // TODO: hand out one free frame: find a set bit in free_bits, clear it,
    // TODO: count it (free_total) and return the frame's physical address;
    // TODO: return 0 when no frame is free.
    // HINT: start the search at next_word and wrap around, so a run of
    // HINT: allocations does not rescan the full words at the bottom.
    // HINT: __builtin_ctzll(word) is the index of the lowest set bit.
    // STUB: return 0; /* no frame: write frame_alloc */
    for (uint64_t i = 0; i < word_count; i++) {
        uint64_t w = (next_word + i) % word_count;
        if (free_bits[w] == 0)
            continue;
        uint64_t bit = (uint64_t)__builtin_ctzll(free_bits[w]);
        free_bits[w] &= ~(1ull << bit);
        free_total--;
        next_word = w;
        return (w * BITS_PER_WORD + bit) * FRAME_SIZE;
    }
    return 0;
    // LAB frames END
}

void frame_free(uint64_t address)
{
    // LAB frames BEGIN
    // TODO: give a frame back. Panic, naming the address, when it is not
    // TODO: 4 KiB aligned, lies beyond frame_count, was never managed (a
    // TODO: reserved frame: say which reservation) or is free already (a
    // TODO: double free); otherwise set its free bit and count it.
    // HINT: test_bit() and reservation_at() are above; panic() takes printf
    // HINT: arguments.
    // STUB: (void)address; /* nothing is freed: write frame_free */
    // STUB: (void)reservation_at; /* used by the solution; keeps -Werror quiet */
    if (address % FRAME_SIZE != 0)
        panic("frame_free(0x%016llx): not the start of a frame (not 4 KiB aligned)",
              (unsigned long long)address);
    uint64_t frame = address / FRAME_SIZE;
    if (frame >= frame_count)
        panic("frame_free(0x%016llx): beyond the memory the frame allocator manages "
              "(ends at 0x%016llx)",
              (unsigned long long)address, (unsigned long long)(frame_count * FRAME_SIZE));
    if (!test_bit(managed_bits, frame)) {
        const struct frame_reservation *r = reservation_at(address);
        panic("frame_free(0x%016llx): freeing a reserved frame (%s), never handed out",
              (unsigned long long)address, r ? r->what : "not usable RAM in the memory map");
    }
    if (test_bit(free_bits, frame))
        panic("frame_free(0x%016llx): double free: the frame is already free",
              (unsigned long long)address);
    free_bits[frame / BITS_PER_WORD] |= 1ull << (frame % BITS_PER_WORD);
    free_total++;
    // LAB frames END
}

struct frame_stats frames_stats(void)
{
    return (struct frame_stats){managed_total, free_total, managed_total - free_total};
}

bool frame_is_managed(uint64_t address)
{
    uint64_t frame = address / FRAME_SIZE;
    return frame < frame_count && test_bit(managed_bits, frame);
}

bool frame_is_free(uint64_t address)
{
    uint64_t frame = address / FRAME_SIZE;
    return frame < frame_count && test_bit(free_bits, frame);
}

size_t frames_reservations(const struct frame_reservation **list)
{
    *list = reservations;
    return reservation_count;
}

uint64_t frames_limit(void)
{
    return frame_count * FRAME_SIZE;
}
