/*
 * fuzz_mkimage_build.c - `mkimage build` with the fuzz input as the kernel.
 *
 * Stage 1 and stage 2 are this build's real ones (their paths are compiled
 * in by tests/fuzz/Makefile), so the input meets exactly the checks a user's
 * kernel meets: kind detection, the ELF checks of each protocol, the layout.
 * What counts as a finding: a crash, a sanitizer report, a hang, or a build
 * that reports success without leaving an image behind.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "build.h"
#include "fuzz_file.h"

#ifndef FUZZ_STAGE1
#error "FUZZ_STAGE1 (the path of stage1.bin) must be defined"
#endif
#ifndef FUZZ_STAGE2
#error "FUZZ_STAGE2 (the path of stage2.bin) must be defined"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char kernel[512], image[512];
    snprintf(kernel, sizeof(kernel), "%s/kernel.elf", fuzz_scratch_dir());
    snprintf(image, sizeof(image), "%s/disk.img", fuzz_scratch_dir());
    fuzz_write_file(kernel, data, size);

    struct build_options o = {
        .stage1 = FUZZ_STAGE1,
        .stage2 = FUZZ_STAGE2,
        .kernel = kernel,
        .cmdline = "",
        .output = image,
    };
    int status = build_image(&o);
    /* mkimage's promise: the image exists exactly when the build succeeded
     * (a failed build leaves no half-written file). */
    int exists = access(image, F_OK) == 0;
    if ((status == 0) != exists) {
        fprintf(stderr, "fuzz_mkimage_build: status %d but the image %s\n", status,
                exists ? "exists" : "is missing");
        abort();
    }
    unlink(image);
    return 0;
}
