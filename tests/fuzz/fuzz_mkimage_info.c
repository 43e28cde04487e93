/*
 * fuzz_mkimage_info.c - `mkimage info` on the fuzz input as the image.
 *
 * The seeds are the first sectors of a real image (tests/fuzz/corpus/);
 * info_image() reads and verifies whatever it is given and must answer
 * with a status, never a crash, a sanitizer report or a hang.
 */
#include <stdint.h>
#include <stdio.h>

#include "fuzz_file.h"
#include "info.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char image[512];
    snprintf(image, sizeof(image), "%s/disk.img", fuzz_scratch_dir());
    fuzz_write_file(image, data, size);
    (void)info_image(image);
    return 0;
}
