/* checksum.c - see checksum.h for the definition. */
#include "checksum.h"

#include <string.h>

#include "byte_order.h"

void checksum_init(struct checksum_state *s)
{
    memset(s, 0, sizeof(*s));
}

static void add_word(struct checksum_state *s, uint32_t word)
{
    /* uint32_t arithmetic wraps mod 2^32, exactly as the loader's ADDs do. */
    s->a += word;
    s->b += s->a;
}

void checksum_update(struct checksum_state *s, const void *data, size_t len)
{
    const uint8_t *p = data;

    /* Finish a word that the previous chunk left incomplete. */
    while (s->pending_len > 0 && len > 0) {
        s->pending[s->pending_len++] = *p++;
        len--;
        if (s->pending_len == CHECKSUM_WORD_BYTES) {
            add_word(s, get_le32(s->pending));
            s->pending_len = 0;
        }
    }
    for (; len >= CHECKSUM_WORD_BYTES; p += CHECKSUM_WORD_BYTES, len -= CHECKSUM_WORD_BYTES)
        add_word(s, get_le32(p));
    while (len > 0) {
        s->pending[s->pending_len++] = *p++;
        len--;
    }
}

uint64_t checksum_final(struct checksum_state *s)
{
    if (s->pending_len > 0) {
        memset(s->pending + s->pending_len, 0, CHECKSUM_WORD_BYTES - s->pending_len);
        add_word(s, get_le32(s->pending));
        s->pending_len = 0;
    }
    return ((uint64_t)s->b << 32) | s->a;
}

uint64_t kernel_checksum(const void *data, size_t len)
{
    struct checksum_state s;

    checksum_init(&s);
    checksum_update(&s, data, len);
    return checksum_final(&s);
}
