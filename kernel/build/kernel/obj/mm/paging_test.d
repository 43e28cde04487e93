/work/main/kernel/build/kernel/obj/mm/paging_test.o: mm/paging_test.c \
 /work/main/kernel/mm/paging.h \
 /work/main/kernel/../libk/include/libk/string.h \
 /work/main/kernel/ktest/ktest.h \
 /work/main/kernel/cpu/control_registers.h /work/main/kernel/mm/frames.h \
 /work/main/kernel/../libk/include/libk/memory_map.h \
 /work/main/kernel/boot_info.h /work/main/kernel/mm/kernel_stack.h \
 /work/main/kernel/mm/page_table.h /work/main/kernel/mm/virtual_layout.h
/work/main/kernel/mm/paging.h:
/work/main/kernel/../libk/include/libk/string.h:
/work/main/kernel/ktest/ktest.h:
/work/main/kernel/cpu/control_registers.h:
/work/main/kernel/mm/frames.h:
/work/main/kernel/../libk/include/libk/memory_map.h:
/work/main/kernel/boot_info.h:
/work/main/kernel/mm/kernel_stack.h:
/work/main/kernel/mm/page_table.h:
/work/main/kernel/mm/virtual_layout.h:
