/work/main/kernel/build/kernel/obj/interrupts/scancode_test.o: \
 interrupts/scancode_test.c \
 /work/main/kernel/../libk/include/libk/string.h \
 /work/main/kernel/console.h /work/main/kernel/interrupts/scancode.h \
 /work/main/kernel/ktest/ktest.h
/work/main/kernel/../libk/include/libk/string.h:
/work/main/kernel/console.h:
/work/main/kernel/interrupts/scancode.h:
/work/main/kernel/ktest/ktest.h:
