/*
 * cpu_control.h - the control registers, MSRs and CPUID bits that paging
 * depends on (Intel SDM Vol. 3A, 2.5 "Control Registers" and 4.1.1).
 */
#ifndef KERNEL_MM_CPU_CONTROL_H
#define KERNEL_MM_CPU_CONTROL_H

#include <stdint.h>

/* CR0.WP, bit 16: read-only pages bind ring 0 too (SDM Vol. 3A, 2.5). */
#define CR0_WRITE_PROTECT (1ull << 16)

/* IA32_EFER, MSR 0xC0000080, and its NXE bit 11: the NX bit in page
 * entries is honoured (a reserved bit, which faults, without it). */
#define MSR_EFER 0xC0000080u
#define EFER_NO_EXECUTE_ENABLE (1ull << 11)

/* CPUID leaf 80000001h, EDX bit 20: the CPU has the NX (XD) bit. */
#define CPUID_EXTENDED_FEATURES 0x80000001u
#define CPUID_EXTENDED_MAX 0x80000000u
#define CPUID_EDX_NO_EXECUTE (1u << 20)

/* CR3 bits 12-51 hold the PML4's physical address (SDM Vol. 3A, 4.5). */
#define CR3_ADDRESS_MASK 0x000FFFFFFFFFF000ull

static inline uint64_t read_cr0(void)
{
    uint64_t value;
    __asm__ volatile("mov %%cr0, %0" : "=r"(value));
    return value;
}

static inline void write_cr0(uint64_t value)
{
    __asm__ volatile("mov %0, %%cr0" : : "r"(value) : "memory");
}

static inline uint64_t read_cr3(void)
{
    uint64_t value;
    __asm__ volatile("mov %%cr3, %0" : "=r"(value));
    return value;
}

/* Writing CR3 also flushes every TLB entry not marked global (SDM Vol. 3A,
 * 4.10.4.1); the loader marks none global. */
static inline void write_cr3(uint64_t value)
{
    __asm__ volatile("mov %0, %%cr3" : : "r"(value) : "memory");
}

static inline uint64_t read_msr(uint32_t msr)
{
    uint32_t low, high;
    __asm__ volatile("rdmsr" : "=a"(low), "=d"(high) : "c"(msr));
    return ((uint64_t)high << 32) | low;
}

static inline void write_msr(uint32_t msr, uint64_t value)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
                     : "memory");
}

static inline void cpuid(uint32_t leaf, uint32_t *eax, uint32_t *ebx, uint32_t *ecx,
                         uint32_t *edx)
{
    __asm__ volatile("cpuid" : "=a"(*eax), "=b"(*ebx), "=c"(*ecx), "=d"(*edx) : "a"(leaf), "c"(0));
}

/* Drop the TLB entry for the page holding `address` (SDM Vol. 2A, INVLPG). */
static inline void invlpg(uintptr_t address)
{
    __asm__ volatile("invlpg (%0)" : : "r"(address) : "memory");
}

#endif
