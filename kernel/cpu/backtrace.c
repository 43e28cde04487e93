/*
 * backtrace.c - follow the saved RBP chain (see backtrace.h).
 */
#include "cpu/backtrace.h"

#include <stdbool.h>

#include <libk/printf.h>

#include "console.h"
#include "cpu/gdt.h"
#include "cpu/stack.h"
#include "cpu/symbols.h"

void backtrace_symbolize(uint64_t address, char *out, size_t size)
{
    const char *name;
    uint64_t offset;
    if (symbols_lookup(address, &name, &offset))
        snprintf(out, size, "<%s+0x%llx>", name, (unsigned long long)offset);
    else
        snprintf(out, size, "<?>");
}

/* A frame record (two words at `rbp`) is read only when it lies on one of
 * the kernel's stacks: anything else may be unmapped (the guard page) and
 * reading it would fault again inside the report. */
static bool frame_on_a_stack(uint64_t rbp)
{
    uintptr_t bottom, top;
    if (rbp % 8 != 0)
        return false;
    kernel_stack_bounds(&bottom, &top);
    if (rbp >= bottom && rbp + 16 <= top)
        return true;
    for (unsigned int ist = IST_DOUBLE_FAULT; ist <= IST_MACHINE_CHECK; ist++) {
        gdt_ist_stack(ist, &bottom, &top);
        if (rbp >= bottom && rbp + 16 <= top)
            return true;
    }
    return false;
}

/*
 * A return address points after the CALL, which may be the first byte of
 * the next function (a call that never returns ends its function): name
 * the byte before it, inside the CALL, and add the 1 back.
 */
static void symbolize_return_address(uint64_t address, char *out, size_t size)
{
    const char *name;
    uint64_t offset;
    if (symbols_lookup(address - 1, &name, &offset))
        snprintf(out, size, "<%s+0x%llx>", name, (unsigned long long)(offset + 1));
    else
        snprintf(out, size, "<?>");
}

/* The first byte of "push rbp", with which every function that sets up a
 * frame starts. */
#define OPCODE_PUSH_RBP 0x55

/*
 * GCC leaves out the frame of a leaf function that uses no stack at all,
 * even with -fno-omit-frame-pointer. Interrupted in one of those, RBP is
 * still the caller's frame and the return address into the caller sits at
 * [RSP]: print it, or the caller would be missing from the backtrace.
 */
static void print_frameless_caller(uint64_t rip, uint64_t rsp)
{
    const char *name;
    uint64_t offset;
    char symbol[BACKTRACE_SYMBOL_MAX];
    if (!symbols_lookup(rip, &name, &offset))
        return;
    const uint8_t *function = (const uint8_t *)(uintptr_t)(rip - offset);
    if (*function == OPCODE_PUSH_RBP || !frame_on_a_stack(rsp))
        return;
    uint64_t return_address = *(const uint64_t *)(uintptr_t)rsp;
    if (!symbols_lookup(return_address - 1, &name, &offset))
        return; /* not a return address after all */
    symbolize_return_address(return_address, symbol, sizeof symbol);
    kprintf("  0x%016llx %s\n", (unsigned long long)return_address, symbol);
}

void backtrace_print(uint64_t rip, uint64_t rbp, uint64_t rsp)
{
    char symbol[BACKTRACE_SYMBOL_MAX];
    uint64_t previous = rip;
    unsigned int repeats = 0;

    kprintf("backtrace:\n");
    backtrace_symbolize(rip, symbol, sizeof symbol);
    kprintf("  0x%016llx %s\n", (unsigned long long)rip, symbol);
    print_frameless_caller(rip, rsp);
    for (int frame = 1; frame < BACKTRACE_MAX_FRAMES && frame_on_a_stack(rbp); frame++) {
        const uint64_t *record = (const uint64_t *)(uintptr_t)rbp;
        uint64_t return_address = record[1];
        if (return_address == 0)
            break;
        if (return_address == previous) {
            repeats++; /* deep recursion: say so once, not 16 times */
        } else {
            symbolize_return_address(return_address, symbol, sizeof symbol);
            kprintf("  0x%016llx %s\n", (unsigned long long)return_address, symbol);
        }
        previous = return_address;
        /* Frames get older toward higher addresses; anything else is a loop. */
        if (record[0] <= rbp)
            break;
        rbp = record[0];
    }
    if (repeats > 0)
        kprintf("  (%u frames returned to the same address as the one above)\n", repeats);
}
