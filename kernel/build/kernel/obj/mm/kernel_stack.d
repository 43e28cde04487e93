/work/main/kernel/build/kernel/obj/mm/kernel_stack.o: mm/kernel_stack.c \
 /work/main/kernel/mm/kernel_stack.h /work/main/kernel/mm/frames.h \
 /work/main/kernel/../libk/include/libk/memory_map.h \
 /work/main/kernel/boot_info.h /work/main/kernel/mm/paging.h \
 /work/main/kernel/mm/virtual_layout.h /work/main/kernel/panic.h
/work/main/kernel/mm/kernel_stack.h:
/work/main/kernel/mm/frames.h:
/work/main/kernel/../libk/include/libk/memory_map.h:
/work/main/kernel/boot_info.h:
/work/main/kernel/mm/paging.h:
/work/main/kernel/mm/virtual_layout.h:
/work/main/kernel/panic.h:
