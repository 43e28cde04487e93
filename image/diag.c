/* diag.c - see diag.h. */
#include "diag.h"

#include <stdarg.h>
#include <stdio.h>

void problem(struct problems *p, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: %s: ", PROGRAM_NAME, p->level);
    if (p->subject)
        fprintf(stderr, "%s: ", p->subject);
    if (p->part)
        fprintf(stderr, "%s: ", p->part);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    p->count++;
}

void diag_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: error: ", PROGRAM_NAME);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
