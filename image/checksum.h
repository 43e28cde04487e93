/*
 * checksum.h - the kernel checksum that stage 2 recomputes after reading
 * the kernel file from disk (docs/boot-protocol.md, "Kernel checksum").
 *
 * The file is read as little-endian 32-bit words, the last partial word
 * padded with zero bytes. With every sum taken mod 2^32:
 *     a = w0 + w1 + ... + wn
 *     b = a0 + a1 + ... + an      where ai is the value of a after word i
 *     checksum = (b << 32) | a
 * This is Fletcher's checksum with 32-bit halves and no reduction other
 * than the natural 2^32 wrap-around: cheap in 32-bit assembly (two ADDs per
 * word), yet b depends on the order of the words, which a plain sum does not.
 * Change it only together with the loader.
 */
#ifndef CHECKSUM_H
#define CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

#define CHECKSUM_WORD_BYTES 4

/* Running state, so a file can be checksummed in chunks of any size. */
struct checksum_state {
    uint32_t a;
    uint32_t b;
    uint8_t pending[CHECKSUM_WORD_BYTES]; /* bytes of a word not yet complete */
    unsigned pending_len;
};

void checksum_init(struct checksum_state *s);
void checksum_update(struct checksum_state *s, const void *data, size_t len);
/* Pads a trailing partial word with zeros and returns (b << 32) | a. */
uint64_t checksum_final(struct checksum_state *s);

/* The checksum of one buffer. */
uint64_t kernel_checksum(const void *data, size_t len);

#endif
