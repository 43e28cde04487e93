/work/main/kernel/build/kernel/obj/mm/frames_test.o: mm/frames_test.c \
 /work/main/kernel/mm/frames.h \
 /work/main/kernel/../libk/include/libk/memory_map.h \
 /work/main/kernel/boot_info.h \
 /work/main/kernel/../libk/include/libk/string.h \
 /work/main/kernel/ktest/ktest.h /work/main/kernel/mm/heap.h
/work/main/kernel/mm/frames.h:
/work/main/kernel/../libk/include/libk/memory_map.h:
/work/main/kernel/boot_info.h:
/work/main/kernel/../libk/include/libk/string.h:
/work/main/kernel/ktest/ktest.h:
/work/main/kernel/mm/heap.h:
