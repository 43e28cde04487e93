/*
 * keyboard_test.c - set 1 translation: letters, Shift, Caps Lock, Ctrl,
 * extended keys and releases.
 */
#include <libk/string.h>

#include "console.h"
#include "drivers/keyboard.h"
#include "ktest/ktest.h"

/* Make codes used below (set 1). */
#define SC_A 0x1E
#define SC_C 0x2E
#define SC_1 0x02
#define SC_ENTER 0x1C
#define SC_BACKSPACE 0x0E
#define SC_LEFT_SHIFT 0x2A
#define SC_RIGHT_SHIFT 0x36
#define SC_LEFT_CTRL 0x1D
#define SC_CAPS_LOCK 0x3A
#define SC_EXTENDED 0xE0
#define SC_UP 0x48
#define SC_DELETE 0x53
#define RELEASE 0x80

/* Feed `codes` and return what came out, NUL-terminated. */
static const char *feed(struct keyboard_state *state, const unsigned char *codes,
                        unsigned int count)
{
    static char out[64];
    unsigned int length = 0;
    for (unsigned int i = 0; i < count; i++) {
        char chunk[SCANCODE_OUTPUT_MAX];
        unsigned int n = scancode_translate(state, codes[i], chunk);
        for (unsigned int j = 0; j < n && length + 1 < sizeof out; j++)
            out[length++] = chunk[j];
    }
    out[length] = '\0';
    return out;
}

#define FEED(state, ...)                                                                           \
    feed((state), (const unsigned char[]){__VA_ARGS__},                                            \
         sizeof((const unsigned char[]){__VA_ARGS__}))

KTEST(scancode_letters_digits_and_releases)
{
    struct keyboard_state s = {0};
    KASSERT_EQ(strcmp(FEED(&s, SC_A, SC_A | RELEASE, SC_1, SC_1 | RELEASE, SC_ENTER), "a1\n"), 0);
    KASSERT_EQ(strcmp(FEED(&s, SC_BACKSPACE), "\b"), 0);
}

KTEST(scancode_shift_gives_upper_case_and_symbols)
{
    struct keyboard_state s = {0};
    KASSERT_EQ(strcmp(FEED(&s, SC_LEFT_SHIFT, SC_A, SC_1, SC_LEFT_SHIFT | RELEASE, SC_A), "A!a"),
               0);
    KASSERT_EQ(strcmp(FEED(&s, SC_RIGHT_SHIFT, SC_C, SC_RIGHT_SHIFT | RELEASE, SC_C), "Cc"), 0);
}

KTEST(scancode_caps_lock_toggles_letters_only)
{
    struct keyboard_state s = {0};
    KASSERT_EQ(strcmp(FEED(&s, SC_CAPS_LOCK, SC_CAPS_LOCK | RELEASE, SC_A, SC_1), "A1"), 0);
    /* Shift undoes Caps Lock for letters. */
    KASSERT_EQ(strcmp(FEED(&s, SC_LEFT_SHIFT, SC_A, SC_LEFT_SHIFT | RELEASE), "a"), 0);
    KASSERT_EQ(strcmp(FEED(&s, SC_CAPS_LOCK, SC_CAPS_LOCK | RELEASE, SC_A), "a"), 0);
}

KTEST(scancode_ctrl_letter_is_control_character)
{
    struct keyboard_state s = {0};
    KASSERT_EQ(strcmp(FEED(&s, SC_LEFT_CTRL, SC_C, SC_LEFT_CTRL | RELEASE, SC_C), "\x03"
                                                                                  "c"),
               0);
    /* The right Ctrl is E0 1D. */
    KASSERT_EQ(
        strcmp(FEED(&s, SC_EXTENDED, SC_LEFT_CTRL, SC_A, SC_EXTENDED, SC_LEFT_CTRL | RELEASE, SC_A),
               "\x01"
               "a"),
        0);
}

KTEST(scancode_extended_keys_are_escape_sequences)
{
    struct keyboard_state s = {0};
    KASSERT_EQ(strcmp(FEED(&s, SC_EXTENDED, SC_UP, SC_EXTENDED, SC_UP | RELEASE), CONSOLE_KEY_UP),
               0);
    KASSERT_EQ(strcmp(FEED(&s, SC_EXTENDED, SC_DELETE), CONSOLE_KEY_DELETE), 0);
    /* Without the prefix 0x48 is keypad 8, which this layout ignores. */
    KASSERT_EQ(strcmp(FEED(&s, SC_UP), ""), 0);
}
