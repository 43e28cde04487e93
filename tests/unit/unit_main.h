/*
 * unit_main.h - the command line every host unit-test program shares.
 *
 *   PROGRAM             run every test
 *   PROGRAM --list      print the test names, one per line
 *   PROGRAM NAME        run that one test (exit 0 when it passed)
 *
 * tests/unit_program.py uses --list and NAME to turn each cmocka test into
 * its own pytest result. Include after <cmocka.h>, then end the program
 * with `return unit_main(tests, sizeof tests / sizeof tests[0], argc, argv);`.
 */
#ifndef UNIT_MAIN_H
#define UNIT_MAIN_H

#include <stdio.h>
#include <string.h>

static int unit_main(const struct CMUnitTest *tests, size_t count, int argc, char **argv)
{
    if (argc == 1)
        return _cmocka_run_group_tests(argv[0], tests, count, NULL, NULL);

    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < count; i++)
            puts(tests[i].name);
        return 0;
    }

    if (argc == 2 && argv[1][0] != '-') {
        /* cmocka's filter is a wildcard pattern and quietly runs nothing
         * when nothing matches; insist on an exact, existing name. */
        int found = 0;
        for (size_t i = 0; i < count && !found; i++)
            found = strcmp(tests[i].name, argv[1]) == 0;
        if (!found) {
            fprintf(stderr, "%s: no test named '%s' (see --list)\n", argv[0], argv[1]);
            return 2;
        }
        cmocka_set_test_filter(argv[1]);
        /* The result is the number of failed tests: 0 or 1 here. */
        return _cmocka_run_group_tests(argv[0], tests, count, NULL, NULL);
    }

    fprintf(stderr, "usage: %s [--list | TEST_NAME]\n", argv[0]);
    return 2;
}

#endif
