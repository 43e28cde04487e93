/work/main/kernel/build/kernel/obj/interrupts/timer_test.o: \
 interrupts/timer_test.c /work/main/kernel/console.h \
 /work/main/kernel/interrupts/timer.h /work/main/kernel/io.h \
 /work/main/kernel/ktest/ktest.h
/work/main/kernel/console.h:
/work/main/kernel/interrupts/timer.h:
/work/main/kernel/io.h:
/work/main/kernel/ktest/ktest.h:
