/*
 * interrupt_frame.h - what the stack holds when an interrupt handler in C
 * runs: the registers interrupt_stubs.asm pushed, then what the CPU pushed.
 *
 * On an interrupt or exception in 64-bit mode the CPU aligns RSP down to
 * 16 bytes and pushes SS, RSP, RFLAGS, CS and RIP, plus an error code for
 * some exceptions (Intel SDM Vol. 3A, 6.14.2 and Figure 6-9). The stubs
 * push a 0 in place of a missing error code, the vector number, and all
 * general registers, so every handler sees this one layout (lowest
 * address first).
 */
#ifndef KERNEL_CPU_INTERRUPT_FRAME_H
#define KERNEL_CPU_INTERRUPT_FRAME_H

#include <stdint.h>

struct interrupt_frame {
    /* Pushed by interrupt_stubs.asm (the last push is the lowest address). */
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector;
    uint64_t error_code; /* 0 when the CPU pushes none */
    /* Pushed by the CPU. */
    uint64_t rip, cs, rflags, rsp, ss;
};

_Static_assert(sizeof(struct interrupt_frame) == 22 * 8,
               "interrupt_stubs.asm pushes 17 words, the CPU 5");

/* Called by interrupt_stubs.asm for every vector (idt.c dispatches). */
void interrupt_dispatch(struct interrupt_frame *frame);

#endif
