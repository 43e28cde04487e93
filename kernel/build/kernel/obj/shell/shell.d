/work/main/kernel/build/kernel/obj/shell/shell.o: shell/shell.c \
 /work/main/kernel/shell/shell.h /work/main/kernel/boot_info.h \
 /work/main/kernel/../libk/include/libk/memory_map.h \
 /work/main/kernel/../libk/include/libk/string.h \
 /work/main/kernel/boot_report.h /work/main/kernel/boot_info.h \
 /work/main/kernel/console.h /work/main/kernel/cpu/fault_demo.h \
 /work/main/kernel/interrupts/timer.h /work/main/kernel/mm/frames.h \
 /work/main/kernel/mm/heap.h /work/main/kernel/mm/memory.h \
 /work/main/kernel/mm/paging.h /work/main/kernel/shell/cpu_info.h \
 /work/main/kernel/shell/line_editor.h /work/main/kernel/shell/power.h
/work/main/kernel/shell/shell.h:
/work/main/kernel/boot_info.h:
/work/main/kernel/../libk/include/libk/memory_map.h:
/work/main/kernel/../libk/include/libk/string.h:
/work/main/kernel/boot_report.h:
/work/main/kernel/boot_info.h:
/work/main/kernel/console.h:
/work/main/kernel/cpu/fault_demo.h:
/work/main/kernel/interrupts/timer.h:
/work/main/kernel/mm/frames.h:
/work/main/kernel/mm/heap.h:
/work/main/kernel/mm/memory.h:
/work/main/kernel/mm/paging.h:
/work/main/kernel/shell/cpu_info.h:
/work/main/kernel/shell/line_editor.h:
/work/main/kernel/shell/power.h:
