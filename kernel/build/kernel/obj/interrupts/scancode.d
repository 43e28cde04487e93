/work/main/kernel/build/kernel/obj/interrupts/scancode.o: \
 interrupts/scancode.c /work/main/kernel/interrupts/scancode.h \
 /work/main/kernel/console.h
/work/main/kernel/interrupts/scancode.h:
/work/main/kernel/console.h:
