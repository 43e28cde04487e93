/work/main/kernel/build/kernel/obj/cpu/idt.o: cpu/idt.c \
 /work/main/kernel/cpu/idt.h /work/main/kernel/cpu/exceptions.h \
 /work/main/kernel/cpu/interrupt_frame.h /work/main/kernel/cpu/gdt.h \
 /work/main/kernel/interrupts/irq.h
/work/main/kernel/cpu/idt.h:
/work/main/kernel/cpu/exceptions.h:
/work/main/kernel/cpu/interrupt_frame.h:
/work/main/kernel/cpu/gdt.h:
/work/main/kernel/interrupts/irq.h:
