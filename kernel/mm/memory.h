/*
 * memory.h - memory management start-up: frames, paging, heap.
 */
#ifndef KERNEL_MM_MEMORY_H
#define KERNEL_MM_MEMORY_H

#include <stddef.h>

#include <libk/memory_map.h>

#include "boot_info.h"

/*
 * Sanitise the loader's memory map, start the frame allocator on it, take
 * over the loader's page tables (WP and NX on, the boot stack's guard page
 * unmapped) and map the heap; print one line saying what came of it.
 * Call once, right after the boot information is checked; panics if there
 * is no memory to work with. (The self-tests of memory_selftest.h are
 * main.c's to run, after this.)
 */
void memory_init(const struct boot_info *boot_info);

/* The sanitised memory map memory_init made. */
size_t memory_map(const struct memory_range **ranges);

#endif
