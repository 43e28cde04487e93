/work/main/kernel/build/kernel/obj/interrupts/interrupts.o: \
 interrupts/interrupts.c /work/main/kernel/interrupts/interrupts.h \
 /work/main/kernel/cpu/idt.h /work/main/kernel/interrupts/keyboard.h \
 /work/main/kernel/interrupts/pic.h \
 /work/main/kernel/interrupts/serial_input.h \
 /work/main/kernel/interrupts/timer.h
/work/main/kernel/interrupts/interrupts.h:
/work/main/kernel/cpu/idt.h:
/work/main/kernel/interrupts/keyboard.h:
/work/main/kernel/interrupts/pic.h:
/work/main/kernel/interrupts/serial_input.h:
/work/main/kernel/interrupts/timer.h:
