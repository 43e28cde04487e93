/work/main/kernel/build/kernel/obj/interrupts/serial_input.o: \
 interrupts/serial_input.c /work/main/kernel/interrupts/serial_input.h \
 /work/main/kernel/console.h /work/main/kernel/interrupts/irq.h \
 /work/main/kernel/cpu/interrupt_frame.h /work/main/kernel/serial.h
/work/main/kernel/interrupts/serial_input.h:
/work/main/kernel/console.h:
/work/main/kernel/interrupts/irq.h:
/work/main/kernel/cpu/interrupt_frame.h:
/work/main/kernel/serial.h:
