/*
 * exceptions.c - what happens when the CPU raises exception 0-31.
 *
 * A kernel exception is a kernel bug (or a fault someone provoked on
 * purpose, cpu/fault_demo.c): report everything that helps find it, then
 * stop. (Only a claim handler, exceptions.h, may take one first; the
 * shipped kernel sets none, the in-kernel tests do.) The report goes to
 * every console:
 *
 *   EXCEPTION: Page fault (#PF), vector 14, error code 0x0000000000000002
 *     page fault at CR2=0x00007ffffffff000: not present, write, kernel mode
 *     RIP=0x0000000000101234 <fault_provoke+0x34>  CS=0x08  RFLAGS=0x...
 *     RSP=...  SS=0x10  CR3=...
 *     RAX=... (all general registers)
 *   backtrace:
 *     0x0000000000101234 <fault_provoke+0x34>
 *     ...
 *   PANIC: unhandled CPU exception ...
 */
#include "cpu/exceptions.h"

#include <stdbool.h>
#include <stddef.h>

#include "console.h"
#include "cpu/backtrace.h"
#include "cpu/control_registers.h"
#include "panic.h"

static const char *const exception_names[32] = {
    [EXCEPTION_DIVIDE_ERROR] = "Divide error (#DE)",
    [EXCEPTION_DEBUG] = "Debug (#DB)",
    [EXCEPTION_NMI] = "Non-maskable interrupt (NMI)",
    [EXCEPTION_BREAKPOINT] = "Breakpoint (#BP)",
    [EXCEPTION_OVERFLOW] = "Overflow (#OF)",
    [EXCEPTION_BOUND_RANGE] = "BOUND range exceeded (#BR)",
    [EXCEPTION_INVALID_OPCODE] = "Invalid opcode (#UD)",
    [EXCEPTION_DEVICE_NOT_AVAILABLE] = "Device not available (#NM)",
    [EXCEPTION_DOUBLE_FAULT] = "Double fault (#DF)",
    [9] = "Coprocessor segment overrun (reserved)",
    [EXCEPTION_INVALID_TSS] = "Invalid TSS (#TS)",
    [EXCEPTION_SEGMENT_NOT_PRESENT] = "Segment not present (#NP)",
    [EXCEPTION_STACK_FAULT] = "Stack-segment fault (#SS)",
    [EXCEPTION_GENERAL_PROTECTION] = "General protection (#GP)",
    [EXCEPTION_PAGE_FAULT] = "Page fault (#PF)",
    [EXCEPTION_X87_FLOATING_POINT] = "x87 floating-point error (#MF)",
    [EXCEPTION_ALIGNMENT_CHECK] = "Alignment check (#AC)",
    [EXCEPTION_MACHINE_CHECK] = "Machine check (#MC)",
    [EXCEPTION_SIMD_FLOATING_POINT] = "SIMD floating-point exception (#XM)",
    [EXCEPTION_VIRTUALIZATION] = "Virtualization exception (#VE)",
    [EXCEPTION_CONTROL_PROTECTION] = "Control protection (#CP)",
    [28] = "Hypervisor injection (#HV)",
    [29] = "VMM communication (#VC)",
    [30] = "Security exception (#SX)",
};

/* See exceptions.h; NULL in the shipped kernel, set by ktest while it runs. */
static exception_claim_handler claim_handler;

void exception_set_claim_handler(exception_claim_handler handler)
{
    claim_handler = handler;
}

const char *exception_name(unsigned int vector)
{
    if (vector < 32 && exception_names[vector] != NULL)
        return exception_names[vector];
    return "reserved";
}

static void print_page_fault(uint64_t cr2, uint64_t error_code)
{
    // LAB exceptions BEGIN
    // TODO: print one line: "  page fault at CR2=0x%016llx: " and then the
    // TODO: error code's bits in words: "not present" or "protection
    // TODO: violation (present)", "read" or "write", "kernel mode" or
    // TODO: "user mode", and ", reserved bit set" and ", instruction fetch"
    // TODO: when those bits are set.
    // HINT: The bits are PF_ERROR_... in cpu/exceptions.h (SDM Vol. 3A,
    // HINT: 4.7, Figure 4-12). kprintf takes printf's formats; cast a
    // HINT: uint64_t to unsigned long long for %llx.
    // STUB: (void)cr2;
    // STUB: (void)error_code;
    kprintf("  page fault at CR2=0x%016llx: %s, %s, %s%s%s\n", (unsigned long long)cr2,
            error_code & PF_ERROR_PRESENT ? "protection violation (present)" : "not present",
            error_code & PF_ERROR_WRITE ? "write" : "read",
            error_code & PF_ERROR_USER ? "user mode" : "kernel mode",
            error_code & PF_ERROR_RESERVED_BIT ? ", reserved bit set" : "",
            error_code & PF_ERROR_INSTRUCTION_FETCH ? ", instruction fetch" : "");
    // LAB exceptions END
}

static void print_report(const struct interrupt_frame *f, uint64_t cr2)
{
    char symbol[BACKTRACE_SYMBOL_MAX];

    // LAB exceptions BEGIN
    // TODO: print the report's first lines: "\nEXCEPTION: NAME, vector N,
    // TODO: error code 0x%016llx\n" (exception_name() gives NAME); for a
    // TODO: page fault the line of print_page_fault(cr2, error code); then
    // TODO: "  RIP=0x%016llx SYMBOL\n", the faulting instruction's address
    // TODO: with its function, which backtrace_symbolize() writes into
    // TODO: `symbol` ("<fault_page+0x4>").
    // HINT: The CPU pushed the vector's error code (or the stub pushed 0)
    // HINT: and RIP into the frame (cpu/interrupt_frame.h).
    // STUB: (void)cr2;
    // STUB: (void)symbol;
    // STUB: (void)print_page_fault;
    kprintf("\nEXCEPTION: %s, vector %llu, error code 0x%016llx\n",
            exception_name((unsigned int)f->vector), (unsigned long long)f->vector,
            (unsigned long long)f->error_code);
    if (f->vector == EXCEPTION_PAGE_FAULT)
        print_page_fault(cr2, f->error_code);
    backtrace_symbolize(f->rip, symbol, sizeof symbol);
    kprintf("  RIP=0x%016llx %s\n", (unsigned long long)f->rip, symbol);
    // LAB exceptions END
    kprintf("  CS=0x%04llx RFLAGS=0x%016llx RSP=0x%016llx SS=0x%04llx\n", (unsigned long long)f->cs,
            (unsigned long long)f->rflags, (unsigned long long)f->rsp, (unsigned long long)f->ss);
    /* CR2 is shown for every exception: after a double fault it still
     * holds the address of the page fault that started it. */
    kprintf("  CR2=0x%016llx CR3=0x%016llx\n", (unsigned long long)read_cr2(),
            (unsigned long long)read_cr3());
    kprintf("  RAX=0x%016llx RBX=0x%016llx RCX=0x%016llx\n", (unsigned long long)f->rax,
            (unsigned long long)f->rbx, (unsigned long long)f->rcx);
    kprintf("  RDX=0x%016llx RSI=0x%016llx RDI=0x%016llx\n", (unsigned long long)f->rdx,
            (unsigned long long)f->rsi, (unsigned long long)f->rdi);
    kprintf("  RBP=0x%016llx R8 =0x%016llx R9 =0x%016llx\n", (unsigned long long)f->rbp,
            (unsigned long long)f->r8, (unsigned long long)f->r9);
    kprintf("  R10=0x%016llx R11=0x%016llx R12=0x%016llx\n", (unsigned long long)f->r10,
            (unsigned long long)f->r11, (unsigned long long)f->r12);
    kprintf("  R13=0x%016llx R14=0x%016llx R15=0x%016llx\n", (unsigned long long)f->r13,
            (unsigned long long)f->r14, (unsigned long long)f->r15);
    backtrace_print(f->rip, f->rbp, f->rsp);
}

void exception_handle(struct interrupt_frame *frame)
{
    // LAB exceptions BEGIN
    // TODO: for a page fault read CR2 (the address that faulted) first
    // TODO: thing, 0 for every other vector; offer the exception to the
    // TODO: claim handler, if one is set, with that CR2, and return when
    // TODO: it claims it; else print_report(frame, cr2) and panic with
    // TODO: "unhandled CPU exception: NAME at RIP 0x%016llx".
    // HINT: read_cr2() is in cpu/control_registers.h. A page fault inside
    // HINT: the handler would overwrite CR2 (SDM Vol. 3A, 4.7).
    // HINT: The in-kernel tests (test=exception_) are such a claim handler.
    // STUB: (void)claim_handler;
    // STUB: (void)print_report;
    // STUB: panic("exception_handle: vector %llu is not handled yet (lab exceptions)",
    // STUB:       (unsigned long long)frame->vector);
    /* Read CR2 first: a later page fault (there should be none) would
     * overwrite it. */
    uint64_t cr2 = frame->vector == EXCEPTION_PAGE_FAULT ? read_cr2() : 0;

    if (claim_handler != NULL && claim_handler(frame, cr2))
        return;

    print_report(frame, cr2);
    panic("unhandled CPU exception: %s at RIP 0x%016llx",
          exception_name((unsigned int)frame->vector), (unsigned long long)frame->rip);
    // LAB exceptions END
}
