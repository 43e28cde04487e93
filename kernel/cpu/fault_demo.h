/*
 * fault_demo.h - provoke a CPU exception on purpose, to see the report.
 *
 * Used by the "fault=KIND" command-line word (main.c) and, later, the
 * shell's "fault" command. None of these return.
 */
#ifndef KERNEL_CPU_FAULT_DEMO_H
#define KERNEL_CPU_FAULT_DEMO_H

/* The kinds fault_provoke() knows, separated by spaces. */
#define FAULT_DEMO_KINDS "pf gp ud de df stack"

/*
 * pf     write to a canonical address far above the identity map (#PF, not present)
 * gp     read a non-canonical address (#GP)
 * ud     execute UD2 (#UD)
 * de     divide by zero (#DE)
 * df     point RSP at unmapped memory and push: the #PF cannot be
 *        delivered on that stack, so the CPU raises a double fault (#DF)
 * stack  recurse until the kernel stack runs into its guard page (#DF)
 * Returns (having done nothing) only for an unknown kind.
 */
void fault_provoke(const char *kind);

#endif
