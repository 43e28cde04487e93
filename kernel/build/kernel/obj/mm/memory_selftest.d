/work/main/kernel/build/kernel/obj/mm/memory_selftest.o: \
 mm/memory_selftest.c /work/main/kernel/mm/memory_selftest.h \
 /work/main/kernel/../libk/include/libk/string.h \
 /work/main/kernel/cmdline.h /work/main/kernel/console.h \
 /work/main/kernel/mm/frames.h \
 /work/main/kernel/../libk/include/libk/memory_map.h \
 /work/main/kernel/boot_info.h /work/main/kernel/mm/heap.h \
 /work/main/kernel/mm/kernel_stack.h /work/main/kernel/mm/paging.h \
 /work/main/kernel/mm/virtual_layout.h
/work/main/kernel/mm/memory_selftest.h:
/work/main/kernel/../libk/include/libk/string.h:
/work/main/kernel/cmdline.h:
/work/main/kernel/console.h:
/work/main/kernel/mm/frames.h:
/work/main/kernel/../libk/include/libk/memory_map.h:
/work/main/kernel/boot_info.h:
/work/main/kernel/mm/heap.h:
/work/main/kernel/mm/kernel_stack.h:
/work/main/kernel/mm/paging.h:
/work/main/kernel/mm/virtual_layout.h:
