/work/main/kernel/build/kernel/obj/cpu/exceptions_test.o: \
 cpu/exceptions_test.c /work/main/kernel/../libk/include/libk/string.h \
 /work/main/kernel/cpu/exceptions.h \
 /work/main/kernel/cpu/interrupt_frame.h \
 /work/main/kernel/cpu/fault_demo.h /work/main/kernel/cpu/stack.h \
 /work/main/kernel/cpu/symbols.h /work/main/kernel/ktest/ktest.h
/work/main/kernel/../libk/include/libk/string.h:
/work/main/kernel/cpu/exceptions.h:
/work/main/kernel/cpu/interrupt_frame.h:
/work/main/kernel/cpu/fault_demo.h:
/work/main/kernel/cpu/stack.h:
/work/main/kernel/cpu/symbols.h:
/work/main/kernel/ktest/ktest.h:
