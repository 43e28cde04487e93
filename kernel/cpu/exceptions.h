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
    EXCEPTION_DIVIDE_ERROR = 0,          /* #DE */
    EXCEPTION_DEBUG = 1,                 /* #DB */
    EXCEPTION_NMI = 2,                   /* non-maskable interrupt */
    EXCEPTION_BREAKPOINT = 3,            /* #BP, INT3 */
    EXCEPTION_OVERFLOW = 4,              /* #OF */
    EXCEPTION_BOUND_RANGE = 5,           /* #BR */
    EXCEPTION_INVALID_OPCODE = 6,        /* #UD */
    EXCEPTION_DEVICE_NOT_AVAILABLE = 7,  /* #NM */
    EXCEPTION_DOUBLE_FAULT = 8,          /* #DF */
    EXCEPTION_INVALID_TSS = 10,          /* #TS */
    EXCEPTION_SEGMENT_NOT_PRESENT = 11,  /* #NP */
    EXCEPTION_STACK_FAULT = 12,          /* #SS */
    EXCEPTION_GENERAL_PROTECTION = 13,   /* #GP */
    EXCEPTION_PAGE_FAULT = 14,           /* #PF */
    EXCEPTION_X87_FLOATING_POINT = 16,   /* #MF */
    EXCEPTION_ALIGNMENT_CHECK = 17,      /* #AC */
    EXCEPTION_MACHINE_CHECK = 18,        /* #MC */
    EXCEPTION_SIMD_FLOATING_POINT = 19,  /* #XM */
    EXCEPTION_VIRTUALIZATION = 20,       /* #VE */
    EXCEPTION_CONTROL_PROTECTION = 21,   /* #CP */
};

/* Page-fault error code bits (SDM Vol. 3A, 4.7, Figure 4-12). */
#define PF_ERROR_PRESENT 0x01            /* P: 0 = page not present, 1 = protection violation */
#define PF_ERROR_WRITE 0x02              /* W/R: the access was a write */
#define PF_ERROR_USER 0x04               /* U/S: the access came from ring 3 */
#define PF_ERROR_RESERVED_BIT 0x08       /* RSVD: a reserved bit was set in a paging entry */
#define PF_ERROR_INSTRUCTION_FETCH 0x10  /* I/D: the access was an instruction fetch */

/* An exception a test expected or probed, for the test to inspect. */
struct exception_record {
    unsigned int vector;
    uint64_t error_code;
    uint64_t rip;
    uint64_t cr2;                        /* the faulting address, for #PF only */
    uint64_t count;                      /* how many expected exceptions so far */
};

/* Handle vector 0-31: hand it to a ktest that expects it, else print the
 * full report and panic (halts; ends QEMU with the failure status when
 * the command line has qemu-exit). */
void exception_handle(struct interrupt_frame *frame);

/* The exception's short name ("Page fault (#PF)"), "reserved" for holes. */
const char *exception_name(unsigned int vector);

/* The last exception a test expected or probed (count 0: none yet). */
const struct exception_record *exceptions_last(void);

/*
 * Probing: survive one exception and continue, for tests that want to
 * look at the error code and CR2 (a KTEST_EXPECT_FAULT test ends at the
 * fault). Arm with the vector; then, in the same asm statement as the
 * faulting instruction, store the address to continue at into
 * exception_probe_resume:
 *
 *     exception_probe_arm(EXCEPTION_PAGE_FAULT);
 *     __asm__ volatile("leaq 1f(%%rip), %%rax\n\t"
 *                      "movq %%rax, exception_probe_resume(%%rip)\n\t"
 *                      "movb $1, (%0)\n"          // faults
 *                      "1:" : : "r"(address) : "rax", "memory");
 *     bool fired = exception_probe_take(&record);
 *
 * The handler then records the exception and returns to that address
 * instead of reporting it. One exception per arming.
 */
extern volatile uint64_t exception_probe_resume;
void exception_probe_arm(unsigned int vector);
/* True (and *record filled) when the armed exception happened; disarms. */
bool exception_probe_take(struct exception_record *record);

#endif
