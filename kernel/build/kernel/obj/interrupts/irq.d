/work/main/kernel/build/kernel/obj/interrupts/irq.o: interrupts/irq.c \
 /work/main/kernel/interrupts/irq.h \
 /work/main/kernel/cpu/interrupt_frame.h /work/main/kernel/cpu/idt.h \
 /work/main/kernel/interrupts/pic.h
/work/main/kernel/interrupts/irq.h:
/work/main/kernel/cpu/interrupt_frame.h:
/work/main/kernel/cpu/idt.h:
/work/main/kernel/interrupts/pic.h:
