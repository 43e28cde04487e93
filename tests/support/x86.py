"""Bits of the x86 control registers, EFER and (R/E)FLAGS that the tests
read from QEMU's and Bochs's register dumps, named once."""

# CR0, CR4 and CR3 (Intel SDM Vol. 3A, 2.5 "Control Registers").
CR0_PE = 1 << 0                         # protected mode enable
CR0_WP = 1 << 16                        # write protect, also at CPL 0
CR0_PG = 1 << 31                        # paging
CR4_PAE = 1 << 5                        # physical address extension
CR3_ADDRESS_MASK = 0x000FFFFFFFFFF000   # the PML4's address, bits 51:12

# EFER, MSR 0xC0000080 (Intel SDM Vol. 3A, 2.2.1).
EFER_LME = 1 << 8                       # long mode enable
EFER_LMA = 1 << 10                      # long mode active (set by the CPU)
EFER_NXE = 1 << 11                      # no-execute enable

# EFLAGS/RFLAGS (Intel SDM Vol. 1, 3.4.3).
EFLAGS_IF = 1 << 9                      # interrupts enabled
EFLAGS_VM = 1 << 17                     # virtual-8086 mode
