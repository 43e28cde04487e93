/*
 * halt.h - stopping the processor.
 */
#ifndef KERNEL_CPU_HALT_H
#define KERNEL_CPU_HALT_H

/*
 * Stop executing for good. CLI clears RFLAGS.IF so maskable interrupts
 * cannot wake the CPU; HLT then waits for an interrupt. A non-maskable
 * interrupt (NMI) or a system management interrupt (SMI) can still end a
 * HLT, which is why it sits in a loop.
 */
static inline _Noreturn void halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt");
}

#endif
