/*
 * control_registers.h - the control registers, MSRs, CPUID and TLB
 * instructions the kernel uses, in one place.
 *
 * CR0 holds the paging and write-protect switches, CR2 the linear address
 * of the last page fault, CR3 the physical address of the top-level page
 * table (PML4) (Intel SDM Vol. 3A, 2.5 "Control Registers"); EFER is a
 * model-specific register (MSR) and CPUID reports the features (SDM
 * Vol. 2A, "CPUID"; Vol. 3A, 4.1.1).
 */
#ifndef KERNEL_CPU_CONTROL_REGISTERS_H
#define KERNEL_CPU_CONTROL_REGISTERS_H

#include <stdbool.h>
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
    __asm__ volatile("wrmsr"
                     :
                     : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
                     : "memory");
}

static inline void cpuid(uint32_t leaf, uint32_t *eax, uint32_t *ebx, uint32_t *ecx, uint32_t *edx)
{
    __asm__ volatile("cpuid" : "=a"(*eax), "=b"(*ebx), "=c"(*ecx), "=d"(*edx) : "a"(leaf), "c"(0));
}

/* Whether the CPU can do no-execute pages: CPUID 80000001h EDX bit 20,
 * asked only when leaf 80000000h says the extended leaves go that far
 * (EAX is the highest one); a CPU without that leaf has no NX. */
static inline bool cpu_has_no_execute(void)
{
    uint32_t max_extended, eax, ebx, ecx, edx;
    cpuid(CPUID_EXTENDED_MAX, &max_extended, &ebx, &ecx, &edx);
    if (max_extended < CPUID_EXTENDED_FEATURES)
        return false;
    cpuid(CPUID_EXTENDED_FEATURES, &eax, &ebx, &ecx, &edx);
    return (edx & CPUID_EDX_NO_EXECUTE) != 0;
}

#endif
