/*
 * memory_selftest.h - mistakes made on purpose, chosen on the command line,
 * to show from outside (tests/test_memory.py) that the allocators catch
 * them. Each must end in a panic that names the problem and the address;
 * an in-kernel test cannot check that, since panic() does not return.
 *
 *   memory-selftest=double-free           frame_free the same frame twice
 *   memory-selftest=free-reserved         frame_free a frame of the kernel image
 *   memory-selftest=heap-overrun          write one byte past a kmalloc block, kfree it
 *   memory-selftest=heap-underrun         write one byte before a block, kfree it
 *   memory-selftest=heap-double-free      kfree the same block twice
 *   memory-selftest=heap-foreign-pointer  kfree a pointer kmalloc never returned
 *   memory-selftest=page-walk             print paging_walk_print for a few addresses
 */
#ifndef KERNEL_MM_MEMORY_SELFTEST_H
#define KERNEL_MM_MEMORY_SELFTEST_H

/* Run the self-test called `name` (main.c passes the NAME of
 * memory-selftest=NAME); say so when there is none of that name. */
void memory_selftest(const char *name);

#endif
