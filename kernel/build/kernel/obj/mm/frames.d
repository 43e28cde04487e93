/work/main/kernel/build/kernel/obj/mm/frames.o: mm/frames.c \
 /work/main/kernel/mm/frames.h \
 /work/main/kernel/../libk/include/libk/memory_map.h \
 /work/main/kernel/boot_info.h \
 /work/main/kernel/../libk/include/libk/string.h \
 /work/main/kernel/panic.h
/work/main/kernel/mm/frames.h:
/work/main/kernel/../libk/include/libk/memory_map.h:
/work/main/kernel/boot_info.h:
/work/main/kernel/../libk/include/libk/string.h:
/work/main/kernel/panic.h:
