/* build.h - `mkimage build`: lay out and write a disk image. */
#ifndef BUILD_H
#define BUILD_H

#include <stdbool.h>

#include "loader_fields.h"

struct build_options {
    const char *stage1;
    const char *stage2;
    const char *kernel;
    const char *cmdline; /* "" when not given */
    const char *output;
    const char *protocol; /* a KERNEL_KIND_* name, or NULL to detect the kind */
    bool force;           /* write even if the kernel fails the checks of its kind */
    /* --module FILE[,STRING], as given, in order */
    const char *modules[STAGE2_MODULES_MAX];
    unsigned module_count;
    /* --initrd FILE, as given, in order: a Linux kernel's initial RAM disk,
     * the files concatenated. Stored like modules (one record each). */
    const char *initrds[STAGE2_MODULES_MAX];
    unsigned initrd_count;
};

/* Returns the exit status: 0 when the image was written, 1 otherwise. */
int build_image(const struct build_options *o);

#endif
