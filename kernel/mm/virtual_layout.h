/*
 * virtual_layout.h - where the kernel maps things other than the identity
 * map.
 *
 * The loader's identity map starts at 0 and covers RAM (at most the CPU's
 * physical address width, so within the lower half of the 48-bit address
 * space). Everything the kernel maps at addresses of its own choosing goes
 * in the upper half, from 0xFFFF800000000000, where the identity map never
 * reaches. Each area below has its own PML4 entry (512 GiB apiece), so
 * areas never share a page table.
 */
#ifndef KERNEL_MM_VIRTUAL_LAYOUT_H
#define KERNEL_MM_VIRTUAL_LAYOUT_H

#define GIB (1024ull * 1024ull * 1024ull)

/* The heap (heap.c) grows upward from here, at most HEAP_VIRTUAL_SIZE. PML4 entry 384. */
#define HEAP_VIRTUAL_BASE 0xFFFFC00000000000ull
#define HEAP_VIRTUAL_SIZE (1 * GIB)

/* Kernel stacks (kernel_stack.c), each with an unmapped guard page below. PML4 entry 416. */
#define KERNEL_STACKS_VIRTUAL_BASE 0xFFFFD00000000000ull
#define KERNEL_STACKS_VIRTUAL_SIZE (1 * GIB)

/* Scratch pages for the paging tests (paging_test.c). PML4 entry 448. */
#define PAGING_TEST_VIRTUAL_BASE 0xFFFFE00000000000ull

#endif
