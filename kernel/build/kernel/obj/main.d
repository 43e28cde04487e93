/work/main/kernel/build/kernel/obj/main.o: main.c \
 /work/main/kernel/../libk/include/libk/string.h boot_info.h \
 boot_report.h cmdline.h ktest/ktest.h console.h cpu.h cpu/fault_demo.h \
 cpu/gdt.h cpu/idt.h interrupts/interrupts.h interrupts/timer.h \
 magic_break.h mm/memory.h \
 /work/main/kernel/../libk/include/libk/memory_map.h \
 /work/main/kernel/boot_info.h panic.h qemu_exit.h shell/shell.h
/work/main/kernel/../libk/include/libk/string.h:
boot_info.h:
boot_report.h:
cmdline.h:
ktest/ktest.h:
console.h:
cpu.h:
cpu/fault_demo.h:
cpu/gdt.h:
cpu/idt.h:
interrupts/interrupts.h:
interrupts/timer.h:
magic_break.h:
mm/memory.h:
/work/main/kernel/../libk/include/libk/memory_map.h:
/work/main/kernel/boot_info.h:
panic.h:
qemu_exit.h:
shell/shell.h:
