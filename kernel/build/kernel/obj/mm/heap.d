/work/main/kernel/build/kernel/obj/mm/heap.o: mm/heap.c \
 /work/main/kernel/mm/heap.h \
 /work/main/kernel/../libk/include/libk/string.h \
 /work/main/kernel/mm/frames.h \
 /work/main/kernel/../libk/include/libk/memory_map.h \
 /work/main/kernel/boot_info.h /work/main/kernel/mm/paging.h \
 /work/main/kernel/mm/virtual_layout.h /work/main/kernel/panic.h
/work/main/kernel/mm/heap.h:
/work/main/kernel/../libk/include/libk/string.h:
/work/main/kernel/mm/frames.h:
/work/main/kernel/../libk/include/libk/memory_map.h:
/work/main/kernel/boot_info.h:
/work/main/kernel/mm/paging.h:
/work/main/kernel/mm/virtual_layout.h:
/work/main/kernel/panic.h:
