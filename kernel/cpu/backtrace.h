/*
 * backtrace.h - the chain of callers, with function names.
 *
 * The kernel is compiled with -fno-omit-frame-pointer (kernel/Makefile):
 * every function starts with "push rbp; mov rbp, rsp", so RBP points at
 * the caller's saved RBP, with the return address just above it:
 *
 *     [rbp + 8]  return address into the caller
 *     [rbp]      the caller's RBP  -> the next frame, and so on
 *
 * entry.asm sets RBP = 0 before kernel_main, which ends the chain.
 */
#ifndef KERNEL_CPU_BACKTRACE_H
#define KERNEL_CPU_BACKTRACE_H

#include <stddef.h>
#include <stdint.h>

#define BACKTRACE_SYMBOL_MAX 80 /* "<name+0xoffset>" */
#define BACKTRACE_MAX_FRAMES 16

/* Write "<function+0xoffset>" for a kernel text address, or "<?>" when
 * there is no symbol for it. */
void backtrace_symbolize(uint64_t address, char *out, size_t size);

/* Print "backtrace:" and one line per frame: `rip` first, then the return
 * addresses found by following `rbp` (and at `rsp` when `rip` is in a
 * function without a frame of its own). Memory is read only where it lies
 * on a known kernel stack, so a corrupt RBP or RSP cannot fault here. */
void backtrace_print(uint64_t rip, uint64_t rbp, uint64_t rsp);

#endif
