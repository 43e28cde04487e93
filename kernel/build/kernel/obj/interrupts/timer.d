/work/main/kernel/build/kernel/obj/interrupts/timer.o: interrupts/timer.c \
 /work/main/kernel/interrupts/timer.h /work/main/kernel/interrupts/irq.h \
 /work/main/kernel/cpu/interrupt_frame.h /work/main/kernel/io.h
/work/main/kernel/interrupts/timer.h:
/work/main/kernel/interrupts/irq.h:
/work/main/kernel/cpu/interrupt_frame.h:
/work/main/kernel/io.h:
