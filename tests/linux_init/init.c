/*
 * The /init of the tests' initramfs: Linux runs it as process 1 once the
 * kernel is up. It reports what the loader handed over and powers off:
 *
 *   BOOTSTACK-INIT cmdline=<the whole /proc/cmdline> memtotal_kib=<N>
 *
 * on the console (the kernel's console=ttyS0 makes that COM1), then, once
 * the line is sent, reboot(RB_POWER_OFF), which ends QEMU and Bochs
 * through ACPI. Any failure is
 * printed as "BOOTSTACK-INIT error: ..." and powers off as well, so a test
 * never waits for a hung machine.
 *
 * It uses only system call wrappers (no stdio) to stay small when linked
 * statically: tests/support/linux.py builds it with cc -static.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <termios.h>
#include <unistd.h>

#define MARKER "BOOTSTACK-INIT"

static char buffer[4096];

static void say(const char *text)
{
    write(STDOUT_FILENO, text, strlen(text));
}

/*
 * Powers the machine off once the console has sent everything. write()
 * only queues the bytes in the tty layer, and the serial driver hands
 * them to the UART as it empties its transmitter, at the line's speed
 * (115200 baud: about 87 us a byte); a real UART and Bochs's both take
 * that long. reboot() does not wait for the queue, so without tcdrain()
 * the line was cut in Bochs; QEMU's UART sends each byte at once.
 */
static void power_off(void)
{
    tcdrain(STDOUT_FILENO);
    reboot(RB_POWER_OFF);
}

static void fail(const char *what)
{
    say(MARKER " error: ");
    say(what);
    say("\n");
    power_off();
    for (;;)
        pause();
}

/* Reads the file at `path` into `buffer`, NUL-terminated; returns its length. */
static size_t read_file(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        fail(path);
    size_t length = 0;
    ssize_t got;
    while (length < sizeof buffer - 1 &&
           (got = read(fd, buffer + length, sizeof buffer - 1 - length)) > 0)
        length += (size_t)got;
    close(fd);
    buffer[length] = '\0';
    return length;
}

int main(void)
{
    /* Without a /dev/console in the initramfs there is nothing on fd 1;
       the initramfs has one, this only makes sure. */
    int console = open("/dev/console", O_RDWR);
    if (console >= 0 && console != STDOUT_FILENO) {
        dup2(console, STDOUT_FILENO);
        close(console);
    }
    if (mount("proc", "/proc", "proc", 0, NULL) != 0)
        fail("mount /proc");

    /* /proc/cmdline ends in a newline, which the marker line drops. */
    size_t length = read_file("/proc/cmdline");
    if (length > 0 && buffer[length - 1] == '\n')
        buffer[--length] = '\0';
    say(MARKER " cmdline=");
    say(buffer);

    /* /proc/meminfo's first line: "MemTotal:     123456 kB". */
    read_file("/proc/meminfo");
    char *field = strstr(buffer, "MemTotal:");
    if (field == NULL)
        fail("no MemTotal in /proc/meminfo");
    field += strlen("MemTotal:");
    while (*field == ' ')
        field++;
    char *end = field;
    while (*end >= '0' && *end <= '9')
        end++;
    *end = '\0';
    say(" memtotal_kib=");
    say(field);
    say("\n");

    sync();
    power_off();
    fail("reboot(RB_POWER_OFF) returned");
    return 1;
}
