/work/main/kernel/build/kernel/obj/boot_report.o: boot_report.c \
 boot_report.h boot_info.h \
 /work/main/kernel/../libk/include/libk/memory_map.h console.h
boot_report.h:
boot_info.h:
/work/main/kernel/../libk/include/libk/memory_map.h:
console.h:
