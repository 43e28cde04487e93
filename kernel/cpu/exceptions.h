/*
 * exceptions.h - CPU exceptions (vectors 0-31) and their report.
 *
 * Vector numbers from Intel SDM Vol. 3A, 6.3.1, Table 6-1.
 */
#ifndef KERNEL_CPU_EXCEPTIONS_H
#define KERNEL_CPU_EXCEPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/interrupt_frame.h"

enum exception_vector {
    EXCEPTION_DIVIDE_ERROR = 0,         /* #DE */
    EXCEPTION_DEBUG = 1,                /* #DB */
    EXCEPTION_NMI = 2,                  /* non-maskable interrupt */
    EXCEPTION_BREAKPOINT = 3,           /* #BP, INT3 */
    EXCEPTION_OVERFLOW = 4,             /* #OF */
    EXCEPTION_BOUND_RANGE = 5,          /* #BR */
    EXCEPTION_INVALID_OPCODE = 6,       /* #UD */
    EXCEPTION_DEVICE_NOT_AVAILABLE = 7, /* #NM */
    EXCEPTION_DOUBLE_FAULT = 8,         /* #DF */
    EXCEPTION_INVALID_TSS = 10,         /* #TS */
    EXCEPTION_SEGMENT_NOT_PRESENT = 11, /* #NP */
    EXCEPTION_STACK_FAULT = 12,         /* #SS */
    EXCEPTION_GENERAL_PROTECTION = 13,  /* #GP */
    EXCEPTION_PAGE_FAULT = 14,          /* #PF */
    EXCEPTION_X87_FLOATING_POINT = 16,  /* #MF */
    EXCEPTION_ALIGNMENT_CHECK = 17,     /* #AC */
    EXCEPTION_MACHINE_CHECK = 18,       /* #MC */
    EXCEPTION_SIMD_FLOATING_POINT = 19, /* #XM */
    EXCEPTION_VIRTUALIZATION = 20,      /* #VE */
    EXCEPTION_CONTROL_PROTECTION = 21,  /* #CP */
};

/* Page-fault error code bits (SDM Vol. 3A, 4.7, Figure 4-12). */
#define PF_ERROR_PRESENT 0x01           /* P: 0 = page not present, 1 = protection violation */
#define PF_ERROR_WRITE 0x02             /* W/R: the access was a write */
#define PF_ERROR_USER 0x04              /* U/S: the access came from ring 3 */
#define PF_ERROR_RESERVED_BIT 0x08      /* RSVD: a reserved bit was set in a paging entry */
#define PF_ERROR_INSTRUCTION_FETCH 0x10 /* I/D: the access was an instruction fetch */

/* Handle vector 0-31: offer it to the claim handler, if one is set, else
 * print the full report and panic (halts; ends QEMU with the failure
 * status when the command line has qemu-exit). */
void exception_handle(struct interrupt_frame *frame);

/* The exception's short name ("Page fault (#PF)"), "reserved" for holes. */
const char *exception_name(unsigned int vector);

/*
 * The one hook of the exception path: a handler that sees each exception
 * before it is reported and may claim it. It runs inside the exception,
 * with interrupts off (interrupt gates clear IF), on the stack the
 * exception arrived on (for #DF, NMI and #MC their IST stack). `cr2` is
 * CR2 as read on entry for a page fault, 0 for other vectors.
 *
 * It returns false to let the report and the panic follow; true when it
 * has dealt with the exception, and the CPU then returns to frame->rip
 * (which it may have changed); or it does not return at all, as the
 * in-kernel tests' handler does when it jumps back to its runner.
 *
 * The shipped kernel runs without one: only the test runner (ktest/)
 * sets it, for the faults its tests expect, and clears it again.
 */
typedef bool (*exception_claim_handler)(struct interrupt_frame *frame, uint64_t cr2);

/* Set the claim handler; NULL removes it. */
void exception_set_claim_handler(exception_claim_handler handler);

#endif
