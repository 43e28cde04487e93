/*
 * control_registers.h - reading CR2 and CR3, and INVLPG.
 *
 * CR2 holds the linear address of the last page fault; CR3 the physical
 * address of the top-level page table (PML4) (Intel SDM Vol. 3A, 2.5).
 */
#ifndef KERNEL_CPU_CONTROL_REGISTERS_H
#define KERNEL_CPU_CONTROL_REGISTERS_H

#include <stdint.h>

static inline uint64_t read_cr2(void)
{
    uint64_t value;
    __asm__ volatile("mov %%cr2, %0" : "=r"(value));
    return value;
}

static inline uint64_t read_cr3(void)
{
    uint64_t value;
    __asm__ volatile("mov %%cr3, %0" : "=r"(value));
    return value;
}

/* Drop the TLB entry for the page holding `address` after changing its
 * paging entry (SDM 4.10.4.1). */
static inline void invlpg(uintptr_t address)
{
    __asm__ volatile("invlpg (%0)" : : "r"(address) : "memory");
}

/* RFLAGS.IF, bit 9: maskable interrupts enabled (SDM 2.3). */
#define RFLAGS_INTERRUPT_ENABLE (1ull << 9)

static inline uint64_t read_rflags(void)
{
    uint64_t value;
    __asm__ volatile("pushfq; popq %0" : "=r"(value));
    return value;
}

#endif
