/*
 * file_io.h - reading the input files and writing the image atomically.
 *
 * The image is written to a temporary file (.mkimage-XXXXXX, a short name
 * so that any output name fits) in the output's directory and renamed over it
 * only once it is complete and on disk, so an existing image is
 * never left half-written: a reader (or QEMU) sees the old image or the new
 * one. On failure, or on SIGINT/SIGTERM/SIGHUP, the temporary file is removed.
 */
#ifndef FILE_IO_H
#define FILE_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

struct input_file {
    const char *path;
    int fd;
    uint64_t size;   /* of the whole file, from fstat */
    uint8_t *head;   /* the first head_len bytes */
    size_t head_len; /* min(size, head_max) */
};

/* Open a regular file and read its first `head_max` bytes. On failure,
 * reports "cannot read ...: <reason>: <hint>" to `p` and returns false. */
bool input_open(struct input_file *in, const char *path, size_t head_max, const char *hint,
                struct problems *p);
void input_close(struct input_file *in);

/* Read exactly `len` bytes at `offset`; false (errno set, or 0 at end of file). */
bool read_exact_at(int fd, void *buf, size_t len, uint64_t offset);
bool write_all_at(int fd, const void *buf, size_t len, uint64_t offset);

struct output_file {
    const char *final_path;
    char *temp_path;
    int fd;
};

/* Create the temporary file in the output's directory. */
bool output_open(struct output_file *out, const char *path);
/* Extend to `size` bytes with zeros, flush to disk and rename over the
 * final path. On failure the temporary file is removed. */
bool output_commit(struct output_file *out, uint64_t size);
/* Remove the temporary file. */
void output_abort(struct output_file *out);

#endif
