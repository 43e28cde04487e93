/*
 * cpu_info.h - what CPUID says about this processor.
 */
#ifndef KERNEL_SHELL_CPU_INFO_H
#define KERNEL_SHELL_CPU_INFO_H

/* Print vendor, brand, family/model/stepping and the long-mode features. */
void cpu_info_print(void);

#endif
