/work/main/kernel/build/kernel/obj/interrupts/keyboard.o: \
 interrupts/keyboard.c /work/main/kernel/interrupts/keyboard.h \
 /work/main/kernel/console.h /work/main/kernel/interrupts/irq.h \
 /work/main/kernel/cpu/interrupt_frame.h \
 /work/main/kernel/interrupts/scancode.h /work/main/kernel/io.h
/work/main/kernel/interrupts/keyboard.h:
/work/main/kernel/console.h:
/work/main/kernel/interrupts/irq.h:
/work/main/kernel/cpu/interrupt_frame.h:
/work/main/kernel/interrupts/scancode.h:
/work/main/kernel/io.h:
