/* loader_checksums.c - see loader_checksums.h for what is covered and why. */
#include "loader_checksums.h"

#include <string.h>

#include "checksum.h"
#include "loader_fields.h"

_Static_assert(STAGE1_CHECKSUM_END <= SECTOR_SIZE, "stage 1's checksum covers one sector");
_Static_assert(STAGE1_CHECKSUM_END == STAGE1_DAP_OFFSET + sizeof(struct disk_address_packet),
               "stage 1's checksum covers the disk address packet and ends there");

uint64_t stage1_checksum(const uint8_t *mbr)
{
    uint8_t code[STAGE1_CHECKSUM_END];

    memcpy(code, mbr, sizeof(code));
    memset(code + STAGE1_BPB_START, 0, STAGE1_BPB_END - STAGE1_BPB_START);
    memset(code + STAGE1_TIMESTAMP_START, 0, STAGE1_TIMESTAMP_END - STAGE1_TIMESTAMP_START);
    return kernel_checksum(code, sizeof(code));
}

uint64_t stage2_checksum(const uint8_t *stage2, size_t len)
{
    static const uint8_t zero[sizeof(uint64_t)];
    size_t field = offsetof(struct stage2_header, stage2_checksum);
    struct checksum_state s;

    /* Both parts keep the 4-byte word boundaries: the field's offset is a
     * multiple of 4 (the _Static_assert below). */
    checksum_init(&s);
    checksum_update(&s, stage2, field);
    checksum_update(&s, zero, sizeof(zero));
    checksum_update(&s, stage2 + field + sizeof(zero), len - field - sizeof(zero));
    return checksum_final(&s);
}

_Static_assert(offsetof(struct stage2_header, stage2_checksum) % CHECKSUM_WORD_BYTES == 0,
               "stage 2 reads its checksum field as two whole words");
