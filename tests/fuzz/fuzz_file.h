/*
 * fuzz_file.h - hand a fuzz input to code that reads files.
 *
 * mkimage's build and info paths take file names, not buffers. Neither
 * calls exit(): every error is counted in a `struct problems` and the
 * entry points build_image() and info_image() return a status, so the
 * harnesses call them in-process (no fork per input, which would cost
 * libFuzzer most of its speed and its coverage feedback). The input goes
 * into a file under /dev/shm when there is one (RAM, no disk writes), else
 * under TMPDIR or /tmp.
 */
#ifndef FUZZ_FILE_H
#define FUZZ_FILE_H

#include <stddef.h>
#include <stdint.h>

/* A directory for the harness's scratch files, created once per process. */
const char *fuzz_scratch_dir(void);

/* Write `size` bytes to `path` (replacing it); aborts on an I/O error,
 * since an input that never reached the code under test proves nothing. */
void fuzz_write_file(const char *path, const uint8_t *data, size_t size);

#endif
