/*
 * memory_map.c - the memory map sanitiser (see libk/include/libk/memory_map.h).
 *
 * The method is a sweep over the boundaries, from the lowest address up.
 * Every input range contributes two boundaries, where it starts and just
 * past where it ends; between two neighbouring boundaries nothing starts or
 * ends, so one type holds across the whole stretch: the most restrictive
 * type of the input ranges covering it (or none, a hole). The sweep visits
 * the stretches in address order, which sorts the map; it glues a stretch
 * to the previous one when they touch and have the same type, which merges;
 * and it looks at nothing but the input, so it needs no memory of its own.
 *
 * Finding the next boundary scans the whole input, so the sweep costs
 * O(n^2) for n ranges: with the boot protocol's 128 entries at most, about
 * 33,000 steps, done once at boot. A sort first would be faster and longer.
 *
 * Internally a range is [base, last], with `last` the address of its final
 * byte, because the exclusive end of a range that reaches the top of the
 * address space, 2^64, does not fit in 64 bits; its last byte does.
 */
#include <libk/memory_map.h>

#include <stdbool.h>

/* How restrictive each type is: higher wins where ranges overlap. */
enum restriction {
    RESTRICTION_NONE = 0, /* no input range covers this address: a hole */
    RESTRICTION_USABLE,
    RESTRICTION_ACPI_RECLAIMABLE,
    RESTRICTION_ACPI_NVS,
    RESTRICTION_RESERVED, /* also every type number ACPI does not define */
    RESTRICTION_BAD,
};

static enum restriction restriction_of(uint32_t type)
{
    switch (type) {
    case MEMORY_TYPE_USABLE:
        return RESTRICTION_USABLE;
    case MEMORY_TYPE_ACPI_RECLAIMABLE:
        return RESTRICTION_ACPI_RECLAIMABLE;
    case MEMORY_TYPE_ACPI_NVS:
        return RESTRICTION_ACPI_NVS;
    case MEMORY_TYPE_BAD:
        return RESTRICTION_BAD;
    default:
        return RESTRICTION_RESERVED; /* MEMORY_TYPE_RESERVED and unknown numbers */
    }
}

static uint32_t type_of(enum restriction restriction)
{
    switch (restriction) {
    case RESTRICTION_USABLE:
        return MEMORY_TYPE_USABLE;
    case RESTRICTION_ACPI_RECLAIMABLE:
        return MEMORY_TYPE_ACPI_RECLAIMABLE;
    case RESTRICTION_ACPI_NVS:
        return MEMORY_TYPE_ACPI_NVS;
    case RESTRICTION_BAD:
        return MEMORY_TYPE_BAD;
    default:
        return MEMORY_TYPE_RESERVED;
    }
}

/* The final byte of a non-empty range; base + length - 1 clamped at the top
 * of the address space (2^64 - 1) when the sum wraps around. */
static uint64_t last_byte(const struct memory_range *range)
{
    uint64_t room = UINT64_MAX - range->base; /* bytes above base */
    return range->length - 1 > room ? UINT64_MAX : range->base + (range->length - 1);
}

/* The most restrictive type covering `address`. */
static enum restriction restriction_at(const struct memory_range *in, size_t count,
                                       uint64_t address)
{
    enum restriction strongest = RESTRICTION_NONE;
    for (size_t i = 0; i < count; i++) {
        if (in[i].length == 0 || address < in[i].base || address > last_byte(&in[i]))
            continue;
        enum restriction r = restriction_of(in[i].type);
        if (r > strongest)
            strongest = r;
    }
    return strongest;
}

/*
 * The lowest boundary above `address`: a start, or the byte after an end.
 * Returns false when there is none (the sweep has reached the top).
 */
static bool next_boundary(const struct memory_range *in, size_t count, uint64_t address,
                          uint64_t *boundary)
{
    bool found = false;
    for (size_t i = 0; i < count; i++) {
        if (in[i].length == 0)
            continue;
        uint64_t last = last_byte(&in[i]);
        uint64_t candidates[2] = {in[i].base, last + 1};
        /* last + 1 wraps to 0 for a range reaching 2^64: no boundary there. */
        size_t n = last == UINT64_MAX ? 1 : 2;
        for (size_t c = 0; c < n; c++) {
            if (candidates[c] > address && (!found || candidates[c] < *boundary)) {
                *boundary = candidates[c];
                found = true;
            }
        }
    }
    return found;
}

/* Where the output goes: ranges past the capacity are counted, not written. */
struct output {
    struct memory_range *ranges;
    size_t capacity;
    size_t count;
};

/*
 * Finish one merged range [base, last] of `type`: page-align it inward if
 * it is usable (dropping it if no whole page is left), then store it.
 */
static void emit(struct output *out, uint64_t base, uint64_t last, uint32_t type)
{
    const uint64_t page_mask = MEMORY_MAP_PAGE_SIZE - 1;
    if (type == MEMORY_TYPE_USABLE) {
        if (base > UINT64_MAX - page_mask)
            return; /* no page starts at or after base */
        base = (base + page_mask) & ~page_mask;
        if (last != UINT64_MAX) {
            uint64_t end = (last + 1) & ~page_mask; /* round the exclusive end down */
            if (end <= base)
                return; /* less than one whole page */
            last = end - 1;
        }
        /* last == 2^64 - 1: the end, 2^64, is already page-aligned. */
    }
    if (out->count < out->capacity) {
        struct memory_range *r = &out->ranges[out->count];
        r->base = base;
        /* Only [0, 2^64) overflows here; see the header. */
        r->length = last - base == UINT64_MAX ? UINT64_MAX : last - base + 1;
        r->type = type;
    }
    out->count++;
}

size_t memory_map_sanitise(const struct memory_range *in, size_t in_count, struct memory_range *out,
                           size_t out_capacity)
{
    struct output output = {out, out_capacity, 0};

    /* The sweep starts at the lowest start of any non-empty range. */
    uint64_t position = 0;
    bool any = false;
    for (size_t i = 0; i < in_count; i++) {
        if (in[i].length != 0 && (!any || in[i].base < position)) {
            position = in[i].base;
            any = true;
        }
    }
    if (!any)
        return 0;

    /* The range being grown: [pending_base, pending_last] of pending_type. */
    bool pending = false;
    uint64_t pending_base = 0, pending_last = 0;
    enum restriction pending_restriction = RESTRICTION_NONE;

    for (;;) {
        /* The stretch [position, next) has one type throughout. */
        uint64_t next = 0;
        bool more = next_boundary(in, in_count, position, &next);
        uint64_t stretch_last = more ? next - 1 : UINT64_MAX;
        enum restriction r = restriction_at(in, in_count, position);

        bool continues = pending && r == pending_restriction && pending_last + 1 == position;
        if (continues) {
            pending_last = stretch_last;
        } else {
            if (pending)
                emit(&output, pending_base, pending_last, type_of(pending_restriction));
            pending = r != RESTRICTION_NONE; /* a hole starts nothing */
            pending_base = position;
            pending_last = stretch_last;
            pending_restriction = r;
        }
        if (!more)
            break;
        position = next;
    }
    if (pending)
        emit(&output, pending_base, pending_last, type_of(pending_restriction));
    return output.count;
}

const char *memory_type_name(uint32_t type)
{
    switch (type) {
    case MEMORY_TYPE_USABLE:
        return "usable";
    case MEMORY_TYPE_RESERVED:
        return "reserved";
    case MEMORY_TYPE_ACPI_RECLAIMABLE:
        return "ACPI reclaimable";
    case MEMORY_TYPE_ACPI_NVS:
        return "ACPI NVS";
    case MEMORY_TYPE_BAD:
        return "bad";
    default:
        return "unknown";
    }
}
