/*
 * memory_map.h - turn a firmware memory map into one a kernel can trust.
 *
 * The BIOS's E820 map (INT 15h EAX=E820h) comes in the order the firmware
 * happens to produce, and real firmware hands out maps with overlapping,
 * duplicated, nested and empty entries (docs/firmware-quirks.md). Before a
 * frame allocator believes a single byte of it, memory_map_sanitise()
 * rewrites it into a map where:
 *
 *   - the ranges are sorted by address and never overlap;
 *   - where the input overlapped, the more restrictive type won:
 *         bad (5) > reserved (2) and unknown types > ACPI NVS (4)
 *               > ACPI reclaimable (3) > usable (1)
 *     so no byte the firmware called anything but usable is ever handed out;
 *   - adjacent ranges of the same type are one range;
 *   - usable ranges start and end on a 4 KiB page boundary (shrunk inward:
 *     a partial page is not usable) and usable ranges smaller than a page
 *     are gone;
 *   - there are no zero-length ranges;
 *   - an entry whose base + length passes 2^64 ends at 2^64.
 *
 * This header is libk's and knows nothing of the kernel: it has its own
 * range structure and type numbers, so the host unit tests
 * (tests/unit/test_memory_map.c) can use it as is.
 */
#ifndef LIBK_MEMORY_MAP_H
#define LIBK_MEMORY_MAP_H

#include <stddef.h>
#include <stdint.h>

/*
 * Address range types, as INT 15h E820h numbers them (ACPI 6.x, section 15,
 * "System Address Map Interfaces", table "Address Range Types"). The ACPI
 * specification says to treat any other number as reserved; so does the
 * sanitiser, and its output calls such ranges MEMORY_TYPE_RESERVED.
 */
enum memory_type {
    MEMORY_TYPE_USABLE = 1,           /* AddressRangeMemory: RAM for the OS */
    MEMORY_TYPE_RESERVED = 2,         /* AddressRangeReserved: not for the OS */
    MEMORY_TYPE_ACPI_RECLAIMABLE = 3, /* AddressRangeACPI: ACPI tables, RAM once read */
    MEMORY_TYPE_ACPI_NVS = 4,         /* AddressRangeNVS: firmware keeps state here */
    MEMORY_TYPE_BAD = 5,              /* AddressRangeUnusable: memory errors found */
};

/* Usable ranges are aligned to this: the x86 small page (Intel SDM Vol. 3A, 4.5). */
#define MEMORY_MAP_PAGE_SIZE 4096u

struct memory_range {
    uint64_t base;
    uint64_t length;
    uint32_t type; /* enum memory_type; any other number reads as reserved */
};

/*
 * Sanitise `in_count` ranges from `in` into `out`, which has room for
 * `out_capacity` ranges (`out` may be NULL when the capacity is 0), and
 * return how many ranges the whole sanitised map has. Like snprintf, it
 * writes only the first `out_capacity` of them: a return value greater
 * than `out_capacity` means the output was cut short, and the caller
 * should treat the map past out[out_capacity - 1] as unknown.
 *
 * `in` and `out` must not overlap. The output never has more than
 * 2 * in_count - 1 ranges (every input contributes at most one start and
 * one end), so an array of that size always suffices.
 *
 * One range cannot describe all 2^64 bytes: should the output need a range
 * from 0 to 2^64, its length is 2^64 - 1.
 */
size_t memory_map_sanitise(const struct memory_range *in, size_t in_count, struct memory_range *out,
                           size_t out_capacity);

/* A short English name for a type ("usable", "ACPI NVS", "unknown"). */
const char *memory_type_name(uint32_t type);

#endif
