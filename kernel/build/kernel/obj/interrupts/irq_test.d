/work/main/kernel/build/kernel/obj/interrupts/irq_test.o: \
 interrupts/irq_test.c /work/main/kernel/interrupts/irq.h \
 /work/main/kernel/cpu/interrupt_frame.h /work/main/kernel/io.h \
 /work/main/kernel/ktest/ktest.h
/work/main/kernel/interrupts/irq.h:
/work/main/kernel/cpu/interrupt_frame.h:
/work/main/kernel/io.h:
/work/main/kernel/ktest/ktest.h:
