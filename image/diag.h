/*
 * diag.h - how mkimage reports problems.
 *
 * Every message is one line on stderr, "mkimage: error: SUBJECT: what is
 * wrong: what to do", so that a build log names the file at fault. Checks
 * report through a `struct problems` and keep going, so one run lists every
 * problem instead of making the user fix them one at a time.
 */
#ifndef DIAG_H
#define DIAG_H

#include <stddef.h>

#define PROGRAM_NAME "mkimage"

struct problems {
    const char *level;   /* "error" or "warning" */
    const char *subject; /* usually the file the problems are about */
    const char *part;    /* optionally, the part of it: "kernel" inside an image */
    unsigned count;      /* problems reported so far */
};

static inline struct problems problems_for(const char *subject)
{
    return (struct problems){.level = "error", .subject = subject, .part = NULL, .count = 0};
}

/* Print "mkimage: LEVEL: SUBJECT: [PART: ]message" and count it. */
void problem(struct problems *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print "mkimage: error: message" for problems that belong to no one file. */
void diag_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
