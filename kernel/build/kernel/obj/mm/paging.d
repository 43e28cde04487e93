/work/main/kernel/build/kernel/obj/mm/paging.o: mm/paging.c \
 /work/main/kernel/mm/paging.h \
 /work/main/kernel/../libk/include/libk/string.h \
 /work/main/kernel/cpu/control_registers.h /work/main/kernel/mm/frames.h \
 /work/main/kernel/../libk/include/libk/memory_map.h \
 /work/main/kernel/boot_info.h /work/main/kernel/mm/page_table.h \
 /work/main/kernel/panic.h
/work/main/kernel/mm/paging.h:
/work/main/kernel/../libk/include/libk/string.h:
/work/main/kernel/cpu/control_registers.h:
/work/main/kernel/mm/frames.h:
/work/main/kernel/../libk/include/libk/memory_map.h:
/work/main/kernel/boot_info.h:
/work/main/kernel/mm/page_table.h:
/work/main/kernel/panic.h:
