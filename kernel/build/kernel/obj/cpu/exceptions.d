/work/main/kernel/build/kernel/obj/cpu/exceptions.o: cpu/exceptions.c \
 /work/main/kernel/cpu/exceptions.h \
 /work/main/kernel/cpu/interrupt_frame.h /work/main/kernel/console.h \
 /work/main/kernel/cpu/backtrace.h \
 /work/main/kernel/cpu/control_registers.h \
 /work/main/kernel/ktest/ktest.h /work/main/kernel/panic.h
/work/main/kernel/cpu/exceptions.h:
/work/main/kernel/cpu/interrupt_frame.h:
/work/main/kernel/console.h:
/work/main/kernel/cpu/backtrace.h:
/work/main/kernel/cpu/control_registers.h:
/work/main/kernel/ktest/ktest.h:
/work/main/kernel/panic.h:
