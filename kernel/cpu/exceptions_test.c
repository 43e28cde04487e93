/*
 * exceptions_test.c - the CPU raises what the manual says, and the
 * handler sees the right vector, error code and CR2.
 */
#include <stdbool.h>
#include <stdint.h>

#include <libk/string.h>

#include "cpu/exceptions.h"
#include "cpu/fault_demo.h"
#include "cpu/stack.h"
#include "cpu/symbols.h"
#include "ktest/ktest.h"
#include "mm/paging.h"

#define OPCODE_RET 0xC3
#define NON_CANONICAL_ADDRESS 0x8000000000000000ull
#define UNMAPPED_ADDRESS 0x00007FFFFFFFF000ull

/* A constant in .rodata (read-only, no-execute) to write to and jump to. */
static const uint8_t rodata_ret[16] __attribute__((aligned(16))) = {OPCODE_RET};

void kernel_main(void); /* any function in .text will do */

/* Each probe: arm, fault once in the asm statement, land on label 1. */
static bool probe_write(uintptr_t address, struct ktest_fault *fault)
{
    ktest_probe_arm(EXCEPTION_PAGE_FAULT);
    __asm__ volatile("leaq 1f(%%rip), %%rax\n\t"
                     "movq %%rax, ktest_probe_resume(%%rip)\n\t"
                     "movb $0, (%0)\n"
                     "1:"
                     :
                     : "r"(address)
                     : "rax", "memory");
    return ktest_probe_take(fault);
}

static bool probe_read(unsigned int vector, uintptr_t address, struct ktest_fault *fault)
{
    ktest_probe_arm(vector);
    __asm__ volatile("leaq 1f(%%rip), %%rax\n\t"
                     "movq %%rax, ktest_probe_resume(%%rip)\n\t"
                     "movb (%0), %%al\n"
                     "1:"
                     :
                     : "r"(address)
                     : "rax", "memory");
    return ktest_probe_take(fault);
}

/* JMP, not CALL: the fetch fault then leaves nothing on the stack. */
static bool probe_execute(uintptr_t address, struct ktest_fault *fault)
{
    ktest_probe_arm(EXCEPTION_PAGE_FAULT);
    __asm__ volatile("leaq 1f(%%rip), %%rax\n\t"
                     "movq %%rax, ktest_probe_resume(%%rip)\n\t"
                     "jmp *%0\n"
                     "1:"
                     :
                     : "r"(address)
                     : "rax", "memory");
    return ktest_probe_take(fault);
}

KTEST_EXPECT_FAULT(exception_ud2_is_invalid_opcode, EXCEPTION_INVALID_OPCODE)
{
    fault_provoke("ud");
}

KTEST_EXPECT_FAULT(exception_divide_by_zero_is_divide_error, EXCEPTION_DIVIDE_ERROR)
{
    fault_provoke("de");
}

KTEST_EXPECT_FAULT(exception_int3_is_breakpoint, EXCEPTION_BREAKPOINT)
{
    __asm__ volatile("int3");
}

KTEST_EXPECT_FAULT(exception_non_canonical_address_is_general_protection,
                   EXCEPTION_GENERAL_PROTECTION)
{
    fault_provoke("gp");
}

KTEST_EXPECT_FAULT(exception_write_to_rodata_is_page_fault, EXCEPTION_PAGE_FAULT)
{
    *(volatile uint8_t *)(uintptr_t)rodata_ret = 0;
}

KTEST_EXPECT_FAULT(exception_bad_stack_is_double_fault, EXCEPTION_DOUBLE_FAULT)
{
    fault_provoke("df");
}

KTEST_EXPECT_FAULT(exception_stack_overflow_hits_guard_page_as_double_fault, EXCEPTION_DOUBLE_FAULT)
{
    fault_provoke("stack");
}

KTEST(exception_rodata_write_error_code_is_present_write)
{
    struct ktest_fault r;
    KASSERT(probe_write((uintptr_t)rodata_ret, &r));
    KASSERT_EQ(r.vector, EXCEPTION_PAGE_FAULT);
    KASSERT_EQ(r.cr2, (uintptr_t)rodata_ret);
    KASSERT_EQ(r.error_code &
                   (PF_ERROR_PRESENT | PF_ERROR_WRITE | PF_ERROR_USER | PF_ERROR_INSTRUCTION_FETCH),
               PF_ERROR_PRESENT | PF_ERROR_WRITE);
}

KTEST(exception_text_write_error_code_is_present_write)
{
    struct ktest_fault r;
    KASSERT(probe_write((uintptr_t)kernel_main, &r));
    KASSERT_EQ(r.cr2, (uintptr_t)kernel_main);
    KASSERT_EQ(r.error_code & (PF_ERROR_PRESENT | PF_ERROR_WRITE),
               PF_ERROR_PRESENT | PF_ERROR_WRITE);
}

KTEST(exception_unmapped_read_is_not_present)
{
    struct ktest_fault r;
    KASSERT(probe_read(EXCEPTION_PAGE_FAULT, UNMAPPED_ADDRESS, &r));
    KASSERT_EQ(r.cr2, UNMAPPED_ADDRESS);
    KASSERT_EQ(r.error_code & (PF_ERROR_PRESENT | PF_ERROR_WRITE), 0);
}

KTEST(exception_guard_page_below_stack_is_not_present)
{
    struct ktest_fault r;
    uintptr_t guard = kernel_stack_guard_page();
    KASSERT(probe_read(EXCEPTION_PAGE_FAULT, guard + 8, &r));
    KASSERT_EQ(r.cr2, guard + 8);
    KASSERT_EQ(r.error_code & PF_ERROR_PRESENT, 0);
}

KTEST(exception_non_canonical_read_is_gp_with_error_code_zero)
{
    struct ktest_fault r;
    KASSERT(probe_read(EXCEPTION_GENERAL_PROTECTION, NON_CANONICAL_ADDRESS, &r));
    KASSERT_EQ(r.vector, EXCEPTION_GENERAL_PROTECTION);
    KASSERT_EQ(r.error_code, 0);
}

KTEST(exception_executing_rodata_is_instruction_fetch_fault)
{
    struct ktest_fault r;
    if (!paging_nx_enabled())
        return; /* without NX every present page is executable */
    KASSERT(probe_execute((uintptr_t)rodata_ret, &r));
    KASSERT_EQ(r.cr2, (uintptr_t)rodata_ret);
    KASSERT_EQ(r.rip, (uintptr_t)rodata_ret);
    KASSERT_EQ(r.error_code & (PF_ERROR_PRESENT | PF_ERROR_WRITE | PF_ERROR_INSTRUCTION_FETCH),
               PF_ERROR_PRESENT | PF_ERROR_INSTRUCTION_FETCH);
}

KTEST(exception_executing_the_stack_is_instruction_fetch_fault)
{
    struct ktest_fault r;
    volatile uint8_t code[16] = {OPCODE_RET};
    if (!paging_nx_enabled())
        return;
    KASSERT(probe_execute((uintptr_t)code, &r));
    KASSERT_EQ(r.cr2, (uintptr_t)code);
    KASSERT_EQ(r.error_code & (PF_ERROR_PRESENT | PF_ERROR_INSTRUCTION_FETCH),
               PF_ERROR_PRESENT | PF_ERROR_INSTRUCTION_FETCH);
}

KTEST(symbols_name_kernel_functions)
{
    const char *name;
    uint64_t offset;
    KASSERT(symbols_count() > 0);
    KASSERT(symbols_lookup((uintptr_t)kernel_main, &name, &offset));
    KASSERT_EQ(strcmp(name, "kernel_main"), 0);
    KASSERT_EQ(offset, 0);
    KASSERT(symbols_lookup((uintptr_t)kernel_main + 3, &name, &offset));
    KASSERT_EQ(offset, 3);
    KASSERT(!symbols_lookup((uintptr_t)rodata_ret, &name, &offset));
}
