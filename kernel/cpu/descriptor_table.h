/*
 * descriptor_table.h - the operand of LGDT and LIDT: the table's limit
 * (its size in bytes minus one) and its linear base address (Intel SDM
 * Vol. 3A, 3.5.1 "Segment Descriptor Tables" and 6.10 "Interrupt
 * Descriptor Table").
 */
#ifndef KERNEL_CPU_DESCRIPTOR_TABLE_H
#define KERNEL_CPU_DESCRIPTOR_TABLE_H

#include <stdint.h>

struct descriptor_table_register {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

#endif
