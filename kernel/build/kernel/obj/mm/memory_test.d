/work/main/kernel/build/kernel/obj/mm/memory_test.o: mm/memory_test.c \
 /work/main/kernel/mm/memory.h \
 /work/main/kernel/../libk/include/libk/memory_map.h \
 /work/main/kernel/boot_info.h /work/main/kernel/ktest/ktest.h \
 /work/main/kernel/mm/frames.h
/work/main/kernel/mm/memory.h:
/work/main/kernel/../libk/include/libk/memory_map.h:
/work/main/kernel/boot_info.h:
/work/main/kernel/ktest/ktest.h:
/work/main/kernel/mm/frames.h:
