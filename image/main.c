/*
 * main.c - mkimage's command line.
 *
 *   mkimage build --stage1 FILE --stage2 FILE --kernel FILE
 *                 [--cmdline TEXT] [--protocol NAME] [--module FILE[,STRING]]...
 *                 [--initrd FILE]...
 *                 [--force] -o OUT
 *   mkimage info IMAGE
 *   mkimage help
 *
 * Exit status: 0 success, 1 a problem with the files, 2 a usage error.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "build.h"
#include "diag.h"
#include "info.h"
#include "kernel_kind.h"

#define EXIT_OK 0
#define EXIT_PROBLEM 1
#define EXIT_USAGE 2

static const char usage_text[] =
    "usage: " PROGRAM_NAME " build --stage1 FILE --stage2 FILE --kernel FILE\n"
    "                     [--cmdline TEXT] [--protocol NAME] [--module FILE[,STRING]]...\n"
    "                     [--initrd FILE]...\n"
    "                     [--force] -o OUT\n"
    "       " PROGRAM_NAME " info IMAGE\n"
    "       " PROGRAM_NAME " help\n"
    "\n"
    "build   write a bootable disk image: stage 1 in the MBR, stage 2 from LBA 1,\n"
    "        the kernel ELF file from the next 4 KiB boundary, padded to a whole MiB.\n"
    "        OUT is replaced only when the whole image was written.\n"
    "  --stage1 FILE   the 512-byte boot sector (stage1.bin)\n"
    "  --stage2 FILE   the second stage (stage2.bin), starting with its header\n"
    "  --kernel FILE   the kernel: a static ELF64 executable linked at or above 1 MiB\n"
    "                  (our own protocol), a Multiboot2 or Multiboot kernel, or a\n"
    "                  Linux bzImage (boot protocol 2.02 or later)\n"
    "  --cmdline TEXT  the kernel command line, at most 255 bytes (default: empty)\n"
    "  --protocol NAME the kernel's boot protocol, one of " KERNEL_KIND_NAMES ";\n"
    "                  default: detected (linux, multiboot2, multiboot1, else bootstack)\n"
    "  --module FILE[,STRING]  a module for a Multiboot kernel, stored after the kernel\n"
    "                  and loaded after it; STRING (default: the file's name) is\n"
    "                  handed to the kernel with it; up to 8, in order\n"
    "  --initrd FILE   the initial RAM disk of a Linux kernel; repeatable (up to 8):\n"
    "                  the files are concatenated in order\n"
    "  --force         write the image even if the kernel fails the checks of its kind\n"
    "                  (for testing the loader's own checks)\n"
    "  -o, --output OUT  the image file to write\n"
    "info    print the layout of IMAGE and verify it, including the kernel checksum;\n"
    "        exits 1 if anything is wrong\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "%s: error: ", PROGRAM_NAME);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n\n%s", usage_text);
    return EXIT_USAGE;
}

static bool is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

static int help(void)
{
    fputs(usage_text, stdout);
    return EXIT_OK;
}

/* parse_build() result when it met --help: print usage and exit 0. */
#define WANTS_HELP (-1)

/* Value options of `build`, and where each one's value goes. */
struct value_option {
    const char *long_name;
    const char *short_name; /* or NULL */
    const char **target;
};

static int parse_build(int argc, char **argv, struct build_options *o)
{
    const struct value_option options[] = {
        {"--stage1", NULL, &o->stage1},     {"--stage2", NULL, &o->stage2},
        {"--kernel", NULL, &o->kernel},     {"--cmdline", NULL, &o->cmdline},
        {"--protocol", NULL, &o->protocol}, {"--output", "-o", &o->output},
    };
    const size_t option_count = sizeof(options) / sizeof(options[0]);

    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = NULL;
        const struct value_option *match = NULL;

        if (is_help(arg))
            return WANTS_HELP;
        if (strcmp(arg, "--force") == 0) {
            o->force = true;
            continue;
        }
        if (strcmp(arg, "--module") == 0 || strncmp(arg, "--module=", 9) == 0) {
            const char *module = arg[8] == '=' ? arg + 9 : NULL;
            if (!module) {
                if (i + 1 >= argc)
                    return usage_error("build: %s needs a value", arg);
                module = argv[++i];
            }
            if (*module == '\0' || *module == ',')
                return usage_error("build: --module '%s' names no file", module);
            if (o->module_count == STAGE2_MODULES_MAX)
                return usage_error("build: more than 8 --module options; stage 2 holds at most 8 "
                                   "(STAGE2_MODULES_MAX): leave out '%s'",
                                   module);
            o->modules[o->module_count++] = module;
            continue;
        }
        if (strcmp(arg, "--initrd") == 0 || strncmp(arg, "--initrd=", 9) == 0) {
            const char *initrd = arg[8] == '=' ? arg + 9 : NULL;
            if (!initrd) {
                if (i + 1 >= argc)
                    return usage_error("build: %s needs a value", arg);
                initrd = argv[++i];
            }
            if (*initrd == '\0')
                return usage_error("build: --initrd '%s' names no file", initrd);
            if (o->initrd_count == STAGE2_MODULES_MAX)
                return usage_error("build: more than 8 --initrd options; stage 2 holds at most 8 "
                                   "(STAGE2_MODULES_MAX): concatenate some first ('%s')",
                                   initrd);
            o->initrds[o->initrd_count++] = initrd;
            continue;
        }
        for (size_t k = 0; k < option_count && !match; k++) {
            size_t n = strlen(options[k].long_name);
            if (strcmp(arg, options[k].long_name) == 0 ||
                (options[k].short_name && strcmp(arg, options[k].short_name) == 0)) {
                match = &options[k];
            } else if (strncmp(arg, options[k].long_name, n) == 0 && arg[n] == '=') {
                match = &options[k];
                value = arg + n + 1;
            }
        }
        if (!match) {
            if (arg[0] == '-')
                return usage_error("build: unknown option '%s'", arg);
            return usage_error("build: unexpected argument '%s' (every input needs its option)",
                               arg);
        }
        if (!value) {
            if (i + 1 >= argc)
                return usage_error("build: %s needs a value", arg);
            value = argv[++i];
        }
        if (*match->target)
            return usage_error("build: %s given more than once", match->long_name);
        *match->target = value;
    }

    for (size_t k = 0; k < option_count; k++) {
        if (options[k].target == &o->cmdline || options[k].target == &o->protocol)
            continue;
        if (!*options[k].target)
            return usage_error("build: missing %s", options[k].short_name
                                                        ? "-o OUT (the image to write)"
                                                        : options[k].long_name);
        if (**options[k].target == '\0')
            return usage_error("build: %s must not be empty", options[k].long_name);
    }
    if (!o->cmdline)
        o->cmdline = "";
    uint32_t kind;
    if (o->protocol && !kernel_kind_from_name(o->protocol, &kind))
        return usage_error("build: unknown --protocol '%s' (expected one of " KERNEL_KIND_NAMES ")",
                           o->protocol);
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("%s", "no command given");

    const char *command = argv[1];
    if (is_help(command) || strcmp(command, "help") == 0)
        return help();

    if (strcmp(command, "build") == 0) {
        struct build_options o = {0};
        int status = parse_build(argc - 2, argv + 2, &o);
        if (status == WANTS_HELP)
            return help();
        if (status != EXIT_OK)
            return status;
        return build_image(&o) == 0 ? EXIT_OK : EXIT_PROBLEM;
    }
    if (strcmp(command, "info") == 0) {
        if (argc == 3 && is_help(argv[2]))
            return help();
        if (argc != 3)
            return usage_error("%s", "info: give exactly one IMAGE");
        if (argv[2][0] == '-' && argv[2][1] != '\0')
            return usage_error("info: unknown option '%s'", argv[2]);
        return info_image(argv[2]) == 0 ? EXIT_OK : EXIT_PROBLEM;
    }
    return usage_error("unknown command '%s' (expected build, info or help)", command);
}
