/* file_io.c - see file_io.h. Needs POSIX.1-2008 (see the Makefile). */
#include "file_io.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

/* Default permissions of a new file before the umask, as open() and most
 * tools use; mkstemp() itself creates 0600. */
#define NEW_FILE_MODE 0666

bool read_exact_at(int fd, void *buf, size_t len, uint64_t offset)
{
    uint8_t *p = buf;

    while (len > 0) {
        ssize_t n = pread(fd, p, len, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = 0; /* end of file: the caller says "truncated" */
            return false;
        }
        p += n;
        len -= (size_t)n;
        offset += (uint64_t)n;
    }
    return true;
}

bool write_all_at(int fd, const void *buf, size_t len, uint64_t offset)
{
    const uint8_t *p = buf;

    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, (off_t)offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        p += n;
        len -= (size_t)n;
        offset += (uint64_t)n;
    }
    return true;
}

bool input_open(struct input_file *in, const char *path, size_t head_max, const char *hint,
                struct problems *p)
{
    struct stat st;

    memset(in, 0, sizeof(*in));
    in->path = path;
    in->fd = open(path, O_RDONLY);
    if (in->fd < 0) {
        problem(p, "cannot open: %s: %s", strerror(errno), hint);
        return false;
    }
    if (fstat(in->fd, &st) != 0) {
        problem(p, "cannot read: %s: %s", strerror(errno), hint);
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        problem(p, "is not a regular file: %s", hint);
        goto fail;
    }
    in->size = (uint64_t)st.st_size;
    in->head_len = in->size < head_max ? (size_t)in->size : head_max;
    in->head = malloc(in->head_len ? in->head_len : 1);
    if (!in->head) {
        problem(p, "out of memory reading the first %zu bytes", in->head_len);
        goto fail;
    }
    if (!read_exact_at(in->fd, in->head, in->head_len, 0)) {
        problem(p, "cannot read: %s", errno ? strerror(errno) : "the file shrank while being read");
        goto fail;
    }
    return true;

fail:
    input_close(in);
    return false;
}

void input_close(struct input_file *in)
{
    if (in->fd >= 0)
        close(in->fd);
    free(in->head);
    in->fd = -1;
    in->head = NULL;
    in->head_len = 0;
}

/* The temporary file a signal handler must remove; NULL when there is none.
 * Only unlink() is called from the handler: it is async-signal-safe. */
static volatile sig_atomic_t have_temp_path;
static char *temp_path_for_signals;

static const int cleanup_signals[] = {SIGINT, SIGTERM, SIGHUP};

static void remove_temp_and_die(int sig)
{
    if (have_temp_path)
        unlink(temp_path_for_signals);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void set_signal_cleanup(char *path)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = path ? remove_temp_and_die : SIG_DFL;
    temp_path_for_signals = path;
    have_temp_path = path != NULL;
    for (size_t i = 0; i < sizeof(cleanup_signals) / sizeof(cleanup_signals[0]); i++)
        sigaction(cleanup_signals[i], &sa, NULL);
}

bool output_open(struct output_file *out, const char *path)
{
    /* The temporary file lies in the output's directory (so rename() can
     * replace the output atomically: it works only within one file system)
     * under a short name of its own, not the output's name plus a suffix:
     * an output name as long as the file system allows (NAME_MAX) would
     * leave no room for a suffix. mkstemp() replaces the X's. */
    static const char temp_name[] = ".mkimage-XXXXXX";
    const char *slash = strrchr(path, '/');
    size_t dir_len = slash ? (size_t)(slash - path) + 1 : 0; /* keeps the '/' */

    out->final_path = path;
    out->fd = -1;
    out->temp_path = malloc(dir_len + sizeof(temp_name));
    if (!out->temp_path) {
        diag_error("%s: out of memory", path);
        return false;
    }
    memcpy(out->temp_path, path, dir_len);
    memcpy(out->temp_path + dir_len, temp_name, sizeof(temp_name));

    /* Block the cleanup signals until the handler knows the file's name. */
    sigset_t block, old;
    sigemptyset(&block);
    for (size_t i = 0; i < sizeof(cleanup_signals) / sizeof(cleanup_signals[0]); i++)
        sigaddset(&block, cleanup_signals[i]);
    sigprocmask(SIG_BLOCK, &block, &old);
    out->fd = mkstemp(out->temp_path);
    int saved = errno;
    if (out->fd >= 0)
        set_signal_cleanup(out->temp_path);
    sigprocmask(SIG_SETMASK, &old, NULL);

    if (out->fd < 0) {
        diag_error("%s: cannot create a temporary file next to it (%s): %s: check that the "
                   "directory exists and is writable",
                   path, out->temp_path, strerror(saved));
        free(out->temp_path);
        out->temp_path = NULL;
        return false;
    }
    return true;
}

void output_abort(struct output_file *out)
{
    if (out->fd >= 0)
        close(out->fd);
    if (out->temp_path) {
        unlink(out->temp_path);
        set_signal_cleanup(NULL);
        free(out->temp_path);
    }
    out->fd = -1;
    out->temp_path = NULL;
}

bool output_commit(struct output_file *out, uint64_t size)
{
    mode_t mask = umask(0);
    umask(mask);

    /* ftruncate() extends with zero bytes: the padding to a whole MiB. */
    if (ftruncate(out->fd, (off_t)size) != 0) {
        diag_error("%s: cannot extend the temporary file %s to %llu bytes: %s: check the free "
                   "disk space",
                   out->final_path, out->temp_path, (unsigned long long)size, strerror(errno));
        goto fail;
    }
    if (fchmod(out->fd, NEW_FILE_MODE & ~mask) != 0 || fsync(out->fd) != 0) {
        diag_error("%s: cannot finish writing the temporary file %s: %s", out->final_path,
                   out->temp_path, strerror(errno));
        goto fail;
    }
    int fd = out->fd;
    out->fd = -1;
    if (close(fd) != 0) {
        diag_error("%s: cannot finish writing the temporary file %s: %s", out->final_path,
                   out->temp_path, strerror(errno));
        goto fail;
    }
    if (rename(out->temp_path, out->final_path) != 0) {
        diag_error("%s: cannot replace it with the finished image %s: %s: check that the "
                   "output path is not a directory and is writable",
                   out->final_path, out->temp_path, strerror(errno));
        goto fail;
    }
    set_signal_cleanup(NULL);
    free(out->temp_path);
    out->temp_path = NULL;
    return true;

fail:
    output_abort(out);
    return false;
}
