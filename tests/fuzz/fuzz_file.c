/* fuzz_file.c - see fuzz_file.h. */
#include "fuzz_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char scratch_dir[256];

/* Removes the scratch directory and whatever the last input left in it. */
static void remove_scratch_dir(void)
{
    char command[sizeof(scratch_dir) + 16];
    snprintf(command, sizeof(command), "rm -rf '%s'", scratch_dir);
    if (system(command) != 0)
        fprintf(stderr, "fuzz: could not remove %s\n", scratch_dir);
}

const char *fuzz_scratch_dir(void)
{
    if (scratch_dir[0] != '\0')
        return scratch_dir;
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
    snprintf(scratch_dir, sizeof(scratch_dir), "%s/bootstack-fuzz-XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(scratch_dir)) {
        perror("fuzz: mkdtemp");
        abort();
    }
    atexit(remove_scratch_dir);
    return scratch_dir;
}

void fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || (size > 0 && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror(path);
        abort();
    }
}
