/*
 * printf.c - the vsnprintf core: turns a format string and its arguments
 * into text in a caller-supplied buffer.
 *
 * How it works, in three layers:
 *   1. struct output collects characters. It writes them into the buffer
 *      while there is room and keeps counting when there is not, because
 *      C99 says vsnprintf returns the length the whole output would have.
 *   2. parse_spec() reads one conversion specification ("%-08lx") into a
 *      struct spec: flags, width, precision, length modifier, conversion.
 *   3. One small function per kind of conversion (integer, string,
 *      character, %n) lays the text out according to the spec.
 *
 * There is no floating point: the kernel is compiled with
 * -mgeneral-regs-only, so %f, %e, %g and %a are not supported.
 */
#include <libk/limits.h>
#include <libk/printf.h>
#include <libk/string.h>

#include <stdbool.h>
#include <stdint.h>

/* ---- 1. Output ------------------------------------------------------ */

struct output {
    char *buf;   /* may be NULL when size is 0 */
    size_t size; /* bytes available in buf, including room for the NUL */
    size_t len;  /* characters produced so far, written or not */
};

static void put_char(struct output *out, char c)
{
    /* Keep the last byte of the buffer free for the terminating NUL. */
    if (out->len + 1 < out->size)
        out->buf[out->len] = c;
    out->len++;
}

static void put_repeated(struct output *out, char c, size_t count)
{
    while (count-- > 0)
        put_char(out, c);
}

static void put_chars(struct output *out, const char *s, size_t count)
{
    while (count-- > 0)
        put_char(out, *s++);
}

/* Terminate whatever fitted: after the last character, or at the very end
 * of the buffer when the output was truncated. */
static void put_terminator(struct output *out)
{
    if (out->size == 0)
        return;
    out->buf[out->len < out->size ? out->len : out->size - 1] = '\0';
}

/* ---- 2. Conversion specifications ----------------------------------- */

enum flag {
    FLAG_LEFT = 1 << 0,  /* '-': pad on the right instead of the left */
    FLAG_PLUS = 1 << 1,  /* '+': always print a sign for signed numbers */
    FLAG_SPACE = 1 << 2, /* ' ': a space where a '+' would go */
    FLAG_ALT = 1 << 3,   /* '#': 0 before octal, 0x before hex */
    FLAG_ZERO = 1 << 4,  /* '0': pad numbers with zeros, not spaces */
};

enum length {
    LENGTH_DEFAULT, /* int */
    LENGTH_HH,      /* char */
    LENGTH_H,       /* short */
    LENGTH_L,       /* long */
    LENGTH_LL,      /* long long */
    LENGTH_Z,       /* size_t */
    LENGTH_J,       /* intmax_t */
    LENGTH_T,       /* ptrdiff_t */
};

/* A precision of -1 means "none given"; it differs from ".0" for numbers:
 * "%.0d" prints nothing for 0, "%d" prints "0". */
#define NO_PRECISION (-1)

struct spec {
    unsigned flags;
    int width;     /* minimum field width, 0 if none */
    int precision; /* NO_PRECISION or >= 0 */
    enum length length;
    char conversion; /* 'd', 'x', 's', ...; '\0' if the format ended */
};

/*
 * The helpers read the arguments through a pointer to one va_list, so each
 * va_arg advances the same position. Passing the va_list itself would not
 * do: after a callee has used va_arg on it, the caller's copy is
 * indeterminate (C11 7.16p3). And vsnprintf's own parameter cannot be used
 * with &: on x86-64 va_list is an array type, so the parameter is really a
 * pointer and &ap has the wrong type. vsnprintf therefore va_copy()s it into
 * a local variable and hands out that variable's address.
 */
typedef va_list *args_t;

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Reads a decimal number and advances *fmt past it. Saturates at INT_MAX so
 * that an absurd width cannot overflow into a negative one. */
static int parse_number(const char **fmt)
{
    int value = 0;

    for (; is_digit(**fmt); (*fmt)++) {
        int digit = **fmt - '0';

        value = value > (INT_MAX - digit) / 10 ? INT_MAX : value * 10 + digit;
    }
    return value;
}

static unsigned parse_flags(const char **fmt)
{
    unsigned flags = 0;

    for (;; (*fmt)++) {
        switch (**fmt) {
        case '-':
            flags |= FLAG_LEFT;
            break;
        case '+':
            flags |= FLAG_PLUS;
            break;
        case ' ':
            flags |= FLAG_SPACE;
            break;
        case '#':
            flags |= FLAG_ALT;
            break;
        case '0':
            flags |= FLAG_ZERO;
            break;
        default:
            return flags;
        }
    }
}

/* Width: digits, or '*' to take it from the arguments. A negative '*'
 * width means the '-' flag plus the positive width (C11 7.21.6.1p5). */
static void parse_width(const char **fmt, args_t args, struct spec *spec)
{
    if (**fmt != '*') {
        spec->width = parse_number(fmt);
        return;
    }
    (*fmt)++;
    int width = va_arg(*args, int);
    if (width < 0) {
        spec->flags |= FLAG_LEFT;
        /* -INT_MIN does not fit in an int; clamp instead. */
        width = width == INT_MIN ? INT_MAX : -width;
    }
    spec->width = width;
}

/* Precision: '.' then digits (none means 0), or ".*" from the arguments.
 * A negative '*' precision counts as if none had been given. */
static void parse_precision(const char **fmt, args_t args, struct spec *spec)
{
    spec->precision = NO_PRECISION;
    if (**fmt != '.')
        return;
    (*fmt)++;
    if (**fmt == '*') {
        (*fmt)++;
        int precision = va_arg(*args, int);
        spec->precision = precision < 0 ? NO_PRECISION : precision;
    } else {
        spec->precision = parse_number(fmt);
    }
}

static enum length parse_length(const char **fmt)
{
    switch (**fmt) {
    case 'h':
        (*fmt)++;
        if (**fmt == 'h') {
            (*fmt)++;
            return LENGTH_HH;
        }
        return LENGTH_H;
    case 'l':
        (*fmt)++;
        if (**fmt == 'l') {
            (*fmt)++;
            return LENGTH_LL;
        }
        return LENGTH_L;
    case 'z':
        (*fmt)++;
        return LENGTH_Z;
    case 'j':
        (*fmt)++;
        return LENGTH_J;
    case 't':
        (*fmt)++;
        return LENGTH_T;
    default:
        return LENGTH_DEFAULT;
    }
}

/* Parses everything after a '%' up to and including the conversion
 * character, in the order the standard fixes: flags, width, precision,
 * length, conversion. */
static void parse_spec(const char **fmt, args_t args, struct spec *spec)
{
    spec->flags = parse_flags(fmt);
    parse_width(fmt, args, spec);
    parse_precision(fmt, args, spec);
    spec->length = parse_length(fmt);
    spec->conversion = **fmt;
    if (spec->conversion != '\0')
        (*fmt)++;
}

/* ---- 3a. Fetching integer arguments --------------------------------- */

/* %zd and %tu name "the signed type matching size_t" and "the unsigned type
 * matching ptrdiff_t"; C has no names for those, so we rely on the two types
 * having the same width (true for every ABI this kernel targets) and read
 * the argument with the type we do have. */
_Static_assert(sizeof(size_t) == sizeof(ptrdiff_t),
               "size_t and ptrdiff_t must have the same width");

/* Arguments narrower than int arrive promoted to int, so hh and h read an
 * int and then cut it back down, as the standard asks. */
static intmax_t fetch_signed(enum length length, args_t args)
{
    switch (length) {
    case LENGTH_HH:
        return (signed char)va_arg(*args, int);
    case LENGTH_H:
        return (short)va_arg(*args, int);
    case LENGTH_L:
        return va_arg(*args, long);
    case LENGTH_LL:
        return va_arg(*args, long long);
    case LENGTH_Z:
        return (ptrdiff_t)va_arg(*args, size_t);
    case LENGTH_J:
        return va_arg(*args, intmax_t);
    case LENGTH_T:
        return va_arg(*args, ptrdiff_t);
    default:
        return va_arg(*args, int);
    }
}

static uintmax_t fetch_unsigned(enum length length, args_t args)
{
    switch (length) {
    case LENGTH_HH:
        return (unsigned char)va_arg(*args, unsigned);
    case LENGTH_H:
        return (unsigned short)va_arg(*args, unsigned);
    case LENGTH_L:
        return va_arg(*args, unsigned long);
    case LENGTH_LL:
        return va_arg(*args, unsigned long long);
    case LENGTH_Z:
        return va_arg(*args, size_t);
    case LENGTH_J:
        return va_arg(*args, uintmax_t);
    case LENGTH_T:
        return (size_t)va_arg(*args, ptrdiff_t);
    default:
        return va_arg(*args, unsigned);
    }
}

/* ---- 3b. Laying out a field ----------------------------------------- */

/* Number of spaces needed to widen `used` characters to the field width. */
static size_t padding_for(const struct spec *spec, size_t used)
{
    size_t width = (size_t)spec->width;

    return width > used ? width - used : 0;
}

/* Strings, characters and "(nil)": the text plus spaces to fill the width,
 * on the left unless the '-' flag asks for the right. */
static void put_padded(struct output *out, const struct spec *spec, const char *text, size_t len)
{
    size_t padding = padding_for(spec, len);

    if (!(spec->flags & FLAG_LEFT))
        put_repeated(out, ' ', padding);
    put_chars(out, text, len);
    if (spec->flags & FLAG_LEFT)
        put_repeated(out, ' ', padding);
}

/* ---- 3c. Integers --------------------------------------------------- */

/* Enough digits for the largest uintmax_t in the smallest base we print
 * (octal: 3 bits per digit, rounded up). */
#define MAX_DIGITS ((sizeof(uintmax_t) * CHAR_BIT + 2) / 3)

/*
 * A number is printed as up to four parts:
 *     [padding] [prefix] [zeros] [digits]      (or padding last with '-')
 * prefix is the sign or "0x"; zeros come from the precision, from the '#'
 * flag on octal, or from the '0' flag filling the width.
 */
struct number {
    uintmax_t magnitude; /* absolute value */
    bool negative;
    unsigned base;          /* 8, 10 or 16 */
    bool uppercase;         /* 'X': digits and prefix in upper case */
    bool signed_conversion; /* %d/%i: '+' and ' ' flags apply */
    bool hex_prefix;        /* print "0x"/"0X" before the digits */
};

/* Writes the digits of value into the end of buf and returns how many. */
static size_t to_digits(uintmax_t value, unsigned base, bool uppercase, char buf[MAX_DIGITS])
{
    const char *digit_chars = uppercase ? "0123456789ABCDEF" : "0123456789abcdef";
    size_t count = 0;

    do {
        buf[MAX_DIGITS - 1 - count] = digit_chars[value % base];
        value /= base;
        count++;
    } while (value != 0);
    return count;
}

/* Fills `prefix` with the sign or the hex prefix; returns its length. */
static size_t make_prefix(const struct number *num, unsigned flags, char prefix[2])
{
    if (num->hex_prefix) {
        prefix[0] = '0';
        prefix[1] = num->uppercase ? 'X' : 'x';
        return 2;
    }
    if (!num->signed_conversion)
        return 0;
    if (num->negative)
        prefix[0] = '-';
    else if (flags & FLAG_PLUS)
        prefix[0] = '+';
    else if (flags & FLAG_SPACE)
        prefix[0] = ' ';
    else
        return 0;
    return 1;
}

static void put_number(struct output *out, const struct spec *spec, const struct number *num)
{
    char digits[MAX_DIGITS];
    char prefix[2];
    size_t digit_count = 0;

    /* "%.0d" with 0 prints no digits at all: a zero precision asks for
     * at least zero digits, and the value needs none. */
    if (num->magnitude != 0 || spec->precision != 0)
        digit_count = to_digits(num->magnitude, num->base, num->uppercase, digits);
    const char *first_digit = digits + MAX_DIGITS - digit_count;

    /* Leading zeros demanded by the precision. */
    size_t zeros = 0;
    if (spec->precision != NO_PRECISION && (size_t)spec->precision > digit_count)
        zeros = (size_t)spec->precision - digit_count;

    /* '#' with octal: make sure the result starts with a 0. */
    bool starts_with_zero = zeros > 0 || (digit_count > 0 && first_digit[0] == '0');
    if ((spec->flags & FLAG_ALT) && num->base == 8 && !starts_with_zero)
        zeros = 1;

    size_t prefix_len = make_prefix(num, spec->flags, prefix);
    size_t padding = padding_for(spec, prefix_len + zeros + digit_count);

    /* The '0' flag turns the padding into zeros after the prefix, but only
     * without '-' (zeros on the right would change the value) and without a
     * precision (which already says how many zeros there should be). */
    if (!(spec->flags & FLAG_LEFT) && (spec->flags & FLAG_ZERO) &&
        spec->precision == NO_PRECISION) {
        zeros += padding;
        padding = 0;
    }

    if (!(spec->flags & FLAG_LEFT))
        put_repeated(out, ' ', padding);
    put_chars(out, prefix, prefix_len);
    put_repeated(out, '0', zeros);
    put_chars(out, first_digit, digit_count);
    if (spec->flags & FLAG_LEFT)
        put_repeated(out, ' ', padding);
}

static void convert_signed(struct output *out, const struct spec *spec, args_t args)
{
    intmax_t value = fetch_signed(spec->length, args);
    struct number num = {
        .negative = value < 0,
        /* Negate in unsigned arithmetic: -INTMAX_MIN would overflow. */
        .magnitude = value < 0 ? (uintmax_t)0 - (uintmax_t)value : (uintmax_t)value,
        .base = 10,
        .signed_conversion = true,
    };

    put_number(out, spec, &num);
}

static void convert_unsigned(struct output *out, const struct spec *spec, args_t args)
{
    uintmax_t value = fetch_unsigned(spec->length, args);
    bool hex = spec->conversion == 'x' || spec->conversion == 'X';
    struct number num = {
        .magnitude = value,
        .base = spec->conversion == 'o' ? 8 : (hex ? 16 : 10),
        .uppercase = spec->conversion == 'X',
        /* "%#x" with 0 prints just "0", without the prefix. */
        .hex_prefix = hex && (spec->flags & FLAG_ALT) && value != 0,
    };

    put_number(out, spec, &num);
}

/* %p prints like glibc: "0x" and lowercase hex digits (as "%#lx" would),
 * and "(nil)" for a null pointer. The '+' and ' ' flags are ignored: a
 * pointer is not a signed number. */
static void convert_pointer(struct output *out, const struct spec *spec, args_t args)
{
    static const char nil[] = "(nil)";
    uintptr_t address = (uintptr_t)va_arg(*args, void *);

    if (address == 0) {
        put_padded(out, spec, nil, sizeof(nil) - 1);
        return;
    }
    struct number num = {
        .magnitude = address,
        .base = 16,
        .hex_prefix = true,
    };
    put_number(out, spec, &num);
}

/* ---- 3d. Characters and strings ------------------------------------- */

static void convert_char(struct output *out, const struct spec *spec, args_t args)
{
    /* char arguments are promoted to int; the standard converts back to
     * unsigned char. (The precision does not apply to %c.) */
    char c = (char)(unsigned char)va_arg(*args, int);

    put_padded(out, spec, &c, 1);
}

static void convert_string(struct output *out, const struct spec *spec, args_t args)
{
    static const char null_text[] = "(null)";
    const char *s = va_arg(*args, const char *);
    size_t max = spec->precision == NO_PRECISION ? SIZE_MAX : (size_t)spec->precision;

    if (s == NULL) {
        /* Like glibc: a precision too small for "(null)" prints nothing,
         * rather than a cut-off "(nu" that could pass for real data. */
        s = max >= sizeof(null_text) - 1 ? null_text : "";
    }
    /* strnlen, not strlen: with a precision the string need not be
     * NUL-terminated, and we must not read past `max` bytes. */
    put_padded(out, spec, s, strnlen(s, max));
}

/* %n stores how many characters have been produced so far, into an
 * integer of the size the length modifier names. */
static void convert_count(struct output *out, const struct spec *spec, args_t args)
{
    size_t count = out->len;

    switch (spec->length) {
    case LENGTH_HH:
        *va_arg(*args, signed char *) = (signed char)count;
        break;
    case LENGTH_H:
        *va_arg(*args, short *) = (short)count;
        break;
    case LENGTH_L:
        *va_arg(*args, long *) = (long)count;
        break;
    case LENGTH_LL:
        *va_arg(*args, long long *) = (long long)count;
        break;
    case LENGTH_Z:
        *va_arg(*args, size_t *) = count;
        break;
    case LENGTH_J:
        *va_arg(*args, intmax_t *) = (intmax_t)count;
        break;
    case LENGTH_T:
        *va_arg(*args, ptrdiff_t *) = (ptrdiff_t)count;
        break;
    default:
        *va_arg(*args, int *) = (int)count;
        break;
    }
}

/* ---- Putting it together -------------------------------------------- */

/* Handles one specification; `start` points at its '%' so that an unknown
 * conversion can be copied out as it was written, which makes the mistake
 * visible in the output instead of silently dropping it. */
static void convert(struct output *out, const struct spec *spec, args_t args, const char *start,
                    const char *end)
{
    switch (spec->conversion) {
    case 'd':
    case 'i':
        convert_signed(out, spec, args);
        break;
    case 'u':
    case 'o':
    case 'x':
    case 'X':
        convert_unsigned(out, spec, args);
        break;
    case 'p':
        convert_pointer(out, spec, args);
        break;
    case 'c':
        convert_char(out, spec, args);
        break;
    case 's':
        convert_string(out, spec, args);
        break;
    case 'n':
        convert_count(out, spec, args);
        break;
    case '%':
        put_char(out, '%');
        break;
    default:
        put_chars(out, start, (size_t)(end - start));
        break;
    }
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct output out = {.buf = buf, .size = size, .len = 0};
    va_list args;

    /* A local copy whose address the helpers can share (see args_t). */
    va_copy(args, ap);
    while (*fmt != '\0') {
        if (*fmt != '%') {
            put_char(&out, *fmt++);
            continue;
        }
        const char *start = fmt++;
        struct spec spec;

        parse_spec(&fmt, &args, &spec);
        convert(&out, &spec, &args, start, fmt);
    }
    va_end(args);

    put_terminator(&out);
    /* The return type is int; an output longer than INT_MAX cannot be
     * reported, and C11 says to return a negative value then. */
    return out.len > INT_MAX ? -1 : (int)out.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int len = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return len;
}
