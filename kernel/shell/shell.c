/*
 * shell.c - a small command shell on the console.
 *
 * Each command is one function with a line of help in the table below;
 * `help` prints the table. Arguments are split at spaces. A class can add
 * a command by writing a function and adding a row.
 */
#include "shell/shell.h"

#include <stdbool.h>
#include <stdint.h>

#include <libk/memory_map.h>
#include <libk/string.h>

#include "boot_report.h"
#include "console.h"
#include "cpu/fault_demo.h"
#include "drivers/timer.h"
#include "mm/frames.h"
#include "mm/heap.h"
#include "mm/memory.h"
#include "mm/paging.h"
#include "shell/cpu_info.h"
#include "shell/line_editor.h"
#include "shell/power.h"

#define PROMPT "bootstack> "
#define LINE_MAX 128
#define ARGS_MAX 4
#define PAGE_SIZE 4096ull
#define KIB 1024ull
#define MIB (1024ull * 1024ull)
#define MILLISECONDS_PER_SECOND 1000ull

static const struct boot_info *shell_boot_info;

struct command {
    const char *name;
    const char *usage; /* arguments, "" for none */
    const char *help;
    void (*run)(int argc, char **argv);
};

static void command_help(int argc, char **argv);

static void command_mem(int argc, char **argv)
{
    (void)argc, (void)argv;
    struct frame_stats frames = frames_stats();
    kprintf("frames: %llu total, %llu free, %llu used (4 KiB each: %llu MiB, %llu MiB free)\n",
            (unsigned long long)frames.total, (unsigned long long)frames.free,
            (unsigned long long)frames.used, (unsigned long long)(frames.total * PAGE_SIZE / MIB),
            (unsigned long long)(frames.free * PAGE_SIZE / MIB));
    struct heap_stats heap = heap_stats();
    kprintf("heap at 0x%llx: %llu bytes mapped, %llu in %llu blocks in use "
            "(%llu requested), %llu in %llu free blocks, largest free %llu\n",
            (unsigned long long)heap_base(), (unsigned long long)heap.heap_bytes,
            (unsigned long long)heap.used_block_bytes, (unsigned long long)heap.used_blocks,
            (unsigned long long)heap.requested_bytes, (unsigned long long)heap.free_block_bytes,
            (unsigned long long)heap.free_blocks, (unsigned long long)heap.largest_free);
}

static void command_mmap(int argc, char **argv)
{
    (void)argc, (void)argv;
    kprintf("as the firmware reported it:\n");
    boot_report_memory_map(shell_boot_info);
    const struct memory_range *ranges;
    size_t count = memory_map(&ranges);
    kprintf("sanitised (sorted, merged, usable ranges page-aligned): %u ranges\n",
            (unsigned int)count);
    for (size_t i = 0; i < count; i++)
        kprintf("  [%02u] 0x%016llx-0x%016llx type %u %s\n", (unsigned int)i,
                (unsigned long long)ranges[i].base,
                (unsigned long long)(ranges[i].base + ranges[i].length),
                (unsigned int)ranges[i].type, memory_type_name(ranges[i].type));
}

static void command_boot(int argc, char **argv)
{
    (void)argc, (void)argv;
    boot_report_print(shell_boot_info);
}

static void command_cpu(int argc, char **argv)
{
    (void)argc, (void)argv;
    cpu_info_print();
}

static void command_ticks(int argc, char **argv)
{
    (void)argc, (void)argv;
    kprintf("%llu ticks at %u Hz\n", (unsigned long long)timer_ticks(),
            (unsigned int)TIMER_FREQUENCY_HZ);
}

static void command_uptime(int argc, char **argv)
{
    (void)argc, (void)argv;
    uint64_t ms = timer_ticks() * MILLISECONDS_PER_SECOND / TIMER_FREQUENCY_HZ;
    kprintf("up %llu.%03llu s\n", (unsigned long long)(ms / MILLISECONDS_PER_SECOND),
            (unsigned long long)(ms % MILLISECONDS_PER_SECOND));
}

/* Parse a hexadecimal address, with or without 0x. */
static bool parse_hex(const char *text, uint64_t *value)
{
    if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
        text += 2;
    if (*text == '\0')
        return false;
    uint64_t result = 0;
    for (; *text; text++) {
        unsigned int digit;
        if (*text >= '0' && *text <= '9')
            digit = (unsigned int)(*text - '0');
        else if (*text >= 'a' && *text <= 'f')
            digit = (unsigned int)(*text - 'a' + 10);
        else if (*text >= 'A' && *text <= 'F')
            digit = (unsigned int)(*text - 'A' + 10);
        else
            return false;
        if (result >> 60)
            return false; /* more than 16 digits */
        result = result << 4 | digit;
    }
    *value = result;
    return true;
}

static void command_pt(int argc, char **argv)
{
    uint64_t address;
    if (argc != 2 || !parse_hex(argv[1], &address)) {
        kprintf("pt: give one hexadecimal address, e.g. pt 0x100000\n");
        return;
    }
    paging_walk_print(address);
}

static void command_fault(int argc, char **argv)
{
    static const char *const kinds[] = {"pf", "gp", "ud", "de", "df", "stack"};
    if (argc == 2)
        for (unsigned int i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
            if (strcmp(argv[1], kinds[i]) == 0) {
                fault_provoke(argv[1]);
                return;
            }
    kprintf("fault: choose one of: %s\n", FAULT_DEMO_KINDS);
}

static void command_reboot(int argc, char **argv)
{
    (void)argc, (void)argv;
    power_reboot();
}

static void command_poweroff(int argc, char **argv)
{
    (void)argc, (void)argv;
    power_off();
}

static const struct command commands[] = {
    {"help", "", "list the commands", command_help},
    {"mem", "", "physical frames and heap in use", command_mem},
    {"mmap", "", "the firmware's memory map, raw and sanitised", command_mmap},
    {"boot", "", "what the loader handed over, with its timings", command_boot},
    {"cpu", "", "processor vendor, model and long-mode features", command_cpu},
    {"ticks", "", "timer interrupts since boot", command_ticks},
    {"uptime", "", "time since the timer started", command_uptime},
    {"pt", "ADDR", "walk the page tables for ADDR (hex), level by level", command_pt},
    {"fault", "KIND", "provoke an exception: " FAULT_DEMO_KINDS, command_fault},
    {"reboot", "", "restart the machine", command_reboot},
    {"poweroff", "", "switch off (QEMU and Bochs)", command_poweroff},
};
#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

static void command_help(int argc, char **argv)
{
    (void)argc, (void)argv;
    for (unsigned int i = 0; i < COMMAND_COUNT; i++)
        kprintf("  %-8s %-5s %s\n", commands[i].name, commands[i].usage, commands[i].help);
}

/* Split `line` at spaces into argv (in place); returns argc. */
static int split_arguments(char *line, char **argv, int max)
{
    int argc = 0;
    char *p = line;
    while (*p) {
        while (*p == ' ')
            *p++ = '\0';
        if (*p == '\0')
            break;
        if (argc == max)
            return max + 1; /* too many */
        argv[argc++] = p;
        while (*p && *p != ' ')
            p++;
    }
    return argc;
}

static void run_line(char *line)
{
    char *argv[ARGS_MAX];
    int argc = split_arguments(line, argv, ARGS_MAX);
    if (argc == 0)
        return;
    if (argc > ARGS_MAX) {
        kprintf("too many arguments (at most %d words)\n", ARGS_MAX);
        return;
    }
    for (unsigned int i = 0; i < COMMAND_COUNT; i++) {
        if (strcmp(argv[0], commands[i].name) == 0) {
            if (commands[i].usage[0] == '\0' && argc > 1) {
                kprintf("%s takes no arguments\n", commands[i].name);
                return;
            }
            commands[i].run(argc, argv);
            return;
        }
    }
    kprintf("unknown command \"%s\": type help for the list\n", argv[0]);
}

_Noreturn void shell_run(const struct boot_info *boot_info)
{
    shell_boot_info = boot_info;
    kprintf("shell: type help for the commands\n");
    char line[LINE_MAX];
    for (;;) {
        console_write(PROMPT);
        line_read(line, sizeof line);
        run_line(line);
    }
}
