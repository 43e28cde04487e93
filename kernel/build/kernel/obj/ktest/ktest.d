/work/main/kernel/build/kernel/obj/ktest/ktest.o: ktest/ktest.c \
 /work/main/kernel/ktest/ktest.h \
 /work/main/kernel/../libk/include/libk/string.h \
 /work/main/kernel/cmdline.h /work/main/kernel/console.h
/work/main/kernel/ktest/ktest.h:
/work/main/kernel/../libk/include/libk/string.h:
/work/main/kernel/cmdline.h:
/work/main/kernel/console.h:
