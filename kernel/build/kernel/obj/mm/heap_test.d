/work/main/kernel/build/kernel/obj/mm/heap_test.o: mm/heap_test.c \
 /work/main/kernel/mm/heap.h \
 /work/main/kernel/../libk/include/libk/string.h \
 /work/main/kernel/ktest/ktest.h
/work/main/kernel/mm/heap.h:
/work/main/kernel/../libk/include/libk/string.h:
/work/main/kernel/ktest/ktest.h:
