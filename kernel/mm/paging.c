/*
 * paging.c - map, unmap and protect 4 KiB pages (see paging.h).
 *
 * The walk from CR3 to a page table entry goes through three tables (PML4,
 * PDPT, PD); at each, an entry may be missing (paging_map adds a zeroed
 * table), point to the next table, or be a large page (unmap and protect
 * split it; map refuses, since the page is mapped already).
 *
 * Permissions live in the leaf entry. Entries that point to tables are
 * made writable, executable and (only when a user page needs it) user:
 * the CPU combines all levels (Intel SDM Vol. 3A, 4.6), so the most
 * permissive upper levels let each leaf decide alone. The loader builds
 * its upper levels the same way.
 *
 * TLB: after an entry changes, INVLPG drops the stale translation of that
 * page. A split keeps every translation the same, but the TLB may then hold
 * both the large page and small pages for one address, which the SDM
 * (Vol. 3A, 4.10.2.3) asks software to avoid; reloading CR3 flushes them
 * all (the loader marks no page global).
 */
#include "mm/paging.h"

#include <stddef.h>

#include <libk/align.h>
#include <libk/string.h>

#include "cpu/control_registers.h"
#include "mm/frames.h"
#include "mm/page_table.h"
#include "panic.h"

/* Bits a split copies from a large page to each smaller one. */
#define INHERITED_BITS                                                                             \
    (ENTRY_PRESENT | ENTRY_WRITABLE | ENTRY_USER | ENTRY_WRITE_THROUGH | ENTRY_CACHE_DISABLE |     \
     ENTRY_ACCESSED | ENTRY_DIRTY | ENTRY_GLOBAL | ENTRY_NO_EXECUTE)

/* Linear addresses are 48 bits wide with 4-level paging; bits 63-47 must
 * be all equal (SDM Vol. 1, 3.3.7.1, "Canonical Addressing"). */
#define CANONICAL_SIGN_SHIFT 47

static uint64_t pml4_physical;
static bool nx_enabled;

bool paging_nx_enabled(void)
{
    return nx_enabled;
}

void paging_init(void)
{
    pml4_physical = read_cr3() & CR3_ADDRESS_MASK;

    /* The loader sets both (docs/boot-protocol.md); a kernel started some
     * other way may not have them, and protection depends on them. */
    uint64_t cr0 = read_cr0();
    if (!(cr0 & CR0_WRITE_PROTECT))
        write_cr0(cr0 | CR0_WRITE_PROTECT);

    uint64_t efer = read_msr(MSR_EFER);
    if (cpu_has_no_execute() && !(efer & EFER_NO_EXECUTE_ENABLE)) {
        efer |= EFER_NO_EXECUTE_ENABLE;
        write_msr(MSR_EFER, efer);
    }
    nx_enabled = (read_msr(MSR_EFER) & EFER_NO_EXECUTE_ENABLE) != 0;
}

static bool is_canonical(uint64_t virt)
{
    uint64_t upper = virt >> CANONICAL_SIGN_SHIFT; /* bits 63-47 */
    return upper == 0 || upper == (UINT64_MAX >> CANONICAL_SIGN_SHIFT);
}

static bool valid_page(uint64_t virt)
{
    return virt % PAGE_SIZE == 0 && is_canonical(virt);
}

/* The leaf entry bits for `flags` (PAGE_NO_EXECUTE dropped without NXE:
 * bit 63 would then be a reserved bit, and using it a page fault). */
static uint64_t leaf_bits(unsigned int flags)
{
    // LAB paging BEGIN
    // TODO: return the bits of a leaf entry for `flags`: always present;
    // TODO: writable for PAGE_WRITABLE; user for PAGE_USER; no-execute for
    // TODO: PAGE_NO_EXECUTE, but only when nx_enabled.
    // HINT: The ENTRY_... bits are in mm/page_table.h (SDM Vol. 3A, 4.5,
    // HINT: Table 4-19). Without EFER.NXE bit 63 is reserved: a page fault
    // HINT: with the RSVD bit set on the first access.
    // STUB: (void)flags;
    // STUB: return ENTRY_PRESENT; /* read-only, executable, kernel only: write leaf_bits */
    uint64_t bits = ENTRY_PRESENT;
    if (flags & PAGE_WRITABLE)
        bits |= ENTRY_WRITABLE;
    if (flags & PAGE_USER)
        bits |= ENTRY_USER;
    if ((flags & PAGE_NO_EXECUTE) && nx_enabled)
        bits |= ENTRY_NO_EXECUTE;
    return bits;
    // LAB paging END
}

/* A zeroed page table from the frame allocator; 0 when none is left. */
static uint64_t new_table(void)
{
    uint64_t frame = frame_alloc();
    if (frame != 0)
        memset(table_at(frame), 0, PAGE_SIZE);
    return frame;
}

/*
 * Replace the large page in `*entry` (at `level`: a PDPT entry for 1 GiB,
 * a PD entry for 2 MiB) with a table of 512 pages one level smaller and
 * the same permissions.
 */
static enum paging_status split_large_page(uint64_t *entry, int level)
{
    uint64_t table = new_table();
    if (table == 0)
        return PAGING_NO_MEMORY;
    uint64_t large = *entry;
    uint64_t child_span = level_span(level + 1);
    uint64_t base = align_down(large & ENTRY_ADDRESS_MASK, level_span(level));
    uint64_t bits = large & INHERITED_BITS;
    if (level + 1 == LEVEL_PT) {
        /* 4 KiB pages: no PS bit, and PAT moves from bit 12 to bit 7. */
        if (large & ENTRY_LARGE_PAT)
            bits |= ENTRY_PTE_PAT;
    } else {
        bits |= ENTRY_LARGE | (large & ENTRY_LARGE_PAT);
    }
    uint64_t *children = table_at(table);
    for (unsigned int i = 0; i < PAGE_TABLE_ENTRIES; i++)
        children[i] = (base + i * child_span) | bits;

    *entry = table | ENTRY_PRESENT | ENTRY_WRITABLE | (large & ENTRY_USER);
    write_cr3(read_cr3()); /* see the TLB note at the top */
    return PAGING_OK;
}

/* What find_entry may do on its way down to the page table entry. */
enum walk_flags {
    WALK_CREATE_TABLES = 1 << 0, /* add the tables that are missing */
    WALK_SPLIT_LARGE = 1 << 1,   /* split the large pages on the way */
    WALK_ALLOW_USER = 1 << 2,    /* set U/S in every entry on the way */
};

/*
 * The page table entry for `virt`, with `walk` a set of WALK_ flags.
 * Without WALK_CREATE_TABLES a missing table gives PAGING_NOT_MAPPED;
 * without WALK_SPLIT_LARGE a large page gives PAGING_ALREADY_MAPPED.
 */
static enum paging_status find_entry(uint64_t virt, unsigned int walk, uint64_t **result)
{
    // LAB paging BEGIN
    // TODO: walk from the PML4 (pml4_physical) down through the PDPT and the
    // TODO: PD: at each level take the entry for `virt`. Not present: with
    // TODO: WALK_CREATE_TABLES put a new_table() there (present, writable),
    // TODO: else return PAGING_NOT_MAPPED (PAGING_NO_MEMORY when no frame is
    // TODO: left). A large page (PS, below the PML4): with WALK_SPLIT_LARGE
    // TODO: split_large_page() it, else return PAGING_ALREADY_MAPPED. With
    // TODO: WALK_ALLOW_USER set ENTRY_USER on the way. Then store the page
    // TODO: table entry's address in *result and return PAGING_OK.
    // HINT: level_index() picks the 9 bits of `virt` for a level,
    // HINT: table_at() turns an entry (or a physical address) into a
    // HINT: pointer to the table it names (mm/page_table.h).
    // HINT: SDM Vol. 3A, 4.5, Figure 4-8: the walk of a 4 KiB page.
    // STUB: (void)virt;
    // STUB: (void)walk;
    // STUB: (void)result;
    // STUB: (void)split_large_page;
    // STUB: return PAGING_NOT_MAPPED; /* no walk yet: write find_entry */
    uint64_t *table = table_at(pml4_physical);
    for (int level = LEVEL_PML4; level < LEVEL_PT; level++) {
        uint64_t *entry = &table[level_index(virt, level)];
        if (!(*entry & ENTRY_PRESENT)) {
            if (!(walk & WALK_CREATE_TABLES))
                return PAGING_NOT_MAPPED;
            uint64_t next = new_table();
            if (next == 0)
                return PAGING_NO_MEMORY;
            *entry = next | ENTRY_PRESENT | ENTRY_WRITABLE;
        } else if (level != LEVEL_PML4 && (*entry & ENTRY_LARGE)) {
            if (!(walk & WALK_SPLIT_LARGE))
                return PAGING_ALREADY_MAPPED;
            enum paging_status status = split_large_page(entry, level);
            if (status != PAGING_OK)
                return status;
        }
        if (walk & WALK_ALLOW_USER)
            *entry |= ENTRY_USER;
        table = table_at(*entry);
    }
    *result = &table[level_index(virt, LEVEL_PT)];
    return PAGING_OK;
    // LAB paging END
}

enum paging_status paging_map(uint64_t virt, uint64_t phys, unsigned int flags)
{
    if (!valid_page(virt) || phys % PAGE_SIZE != 0 || (phys & ~ENTRY_ADDRESS_MASK) != 0)
        return PAGING_BAD_ADDRESS;
    uint64_t *entry;
    unsigned int walk = WALK_CREATE_TABLES | (flags & PAGE_USER ? WALK_ALLOW_USER : 0);
    enum paging_status status = find_entry(virt, walk, &entry);
    if (status != PAGING_OK)
        return status;
    // LAB paging BEGIN
    // TODO: `entry` is the page table entry of `virt`. Refuse a page that is
    // TODO: mapped already (PAGING_ALREADY_MAPPED); else point the entry at
    // TODO: `phys` with leaf_bits(flags), drop any cached translation of
    // TODO: `virt`, and return PAGING_OK.
    // HINT: invlpg() is in cpu/control_registers.h (SDM Vol. 3A, 4.10.4.1).
    // STUB: (void)entry;
    // STUB: (void)phys;
    // STUB: (void)flags;
    // STUB: return PAGING_NOT_MAPPED; /* nothing mapped yet: write paging_map */
    if (*entry & ENTRY_PRESENT)
        return PAGING_ALREADY_MAPPED;
    *entry = phys | leaf_bits(flags);
    invlpg(virt);
    return PAGING_OK;
    // LAB paging END
}

enum paging_status paging_unmap(uint64_t virt)
{
    if (!valid_page(virt))
        return PAGING_BAD_ADDRESS;
    uint64_t *entry;
    enum paging_status status = find_entry(virt, WALK_SPLIT_LARGE, &entry);
    if (status != PAGING_OK)
        return status;
    // LAB paging BEGIN
    // TODO: `entry` is the page table entry of `virt`. Return
    // TODO: PAGING_NOT_MAPPED when it is not present; else clear it, make
    // TODO: the CPU forget its cached translation of `virt`, and return
    // TODO: PAGING_OK.
    // HINT: The TLB keeps a translation it has used until INVLPG (or a CR3
    // HINT: load) drops it (SDM Vol. 3A, 4.10.4.1): without it the page
    // HINT: stays reachable after the unmap.
    // STUB: (void)entry;
    // STUB: return PAGING_NOT_MAPPED; /* nothing unmapped yet: write paging_unmap */
    if (!(*entry & ENTRY_PRESENT))
        return PAGING_NOT_MAPPED;
    *entry = 0;
    invlpg(virt);
    return PAGING_OK;
    // LAB paging END
}

enum paging_status paging_protect(uint64_t virt, unsigned int flags)
{
    if (!valid_page(virt))
        return PAGING_BAD_ADDRESS;
    uint64_t *entry;
    unsigned int walk = WALK_SPLIT_LARGE | (flags & PAGE_USER ? WALK_ALLOW_USER : 0);
    enum paging_status status = find_entry(virt, walk, &entry);
    if (status != PAGING_OK)
        return status;
    if (!(*entry & ENTRY_PRESENT))
        return PAGING_NOT_MAPPED;
    /* Keep the frame and the caching bits; replace the permissions. */
    uint64_t keep = *entry & ~(ENTRY_WRITABLE | ENTRY_USER | ENTRY_NO_EXECUTE);
    *entry = keep | leaf_bits(flags);
    invlpg(virt);
    return PAGING_OK;
}

bool paging_translate(uint64_t virt, uint64_t *phys, unsigned int *flags)
{
    if (!is_canonical(virt))
        return false;
    bool writable = true, user = true, no_execute = false;
    uint64_t *table = table_at(pml4_physical);
    for (int level = LEVEL_PML4; level <= LEVEL_PT; level++) {
        uint64_t entry = table[level_index(virt, level)];
        if (!(entry & ENTRY_PRESENT))
            return false;
        writable = writable && (entry & ENTRY_WRITABLE);
        user = user && (entry & ENTRY_USER);
        no_execute = no_execute || (nx_enabled && (entry & ENTRY_NO_EXECUTE));
        bool leaf = level == LEVEL_PT || (level != LEVEL_PML4 && (entry & ENTRY_LARGE));
        if (leaf) {
            uint64_t span = level_span(level);
            if (phys)
                *phys = align_down(entry & ENTRY_ADDRESS_MASK, span) + (virt & (span - 1));
            if (flags)
                *flags = (writable ? PAGE_WRITABLE : 0) | (user ? PAGE_USER : 0) |
                         (no_execute ? PAGE_NO_EXECUTE : 0) | (level != LEVEL_PT ? PAGE_LARGE : 0);
            return true;
        }
        table = table_at(entry);
    }
    return false; /* not reached: level PT is always a leaf */
}

const char *paging_status_name(enum paging_status status)
{
    switch (status) {
    case PAGING_OK:
        return "ok";
    case PAGING_NO_MEMORY:
        return "no memory for a page table";
    case PAGING_ALREADY_MAPPED:
        return "already mapped";
    case PAGING_NOT_MAPPED:
        return "not mapped";
    case PAGING_BAD_ADDRESS:
        return "bad address (not page-aligned or not canonical)";
    }
    return "unknown status";
}
