/work/main/kernel/build/kernel/obj/interrupts/pic.o: interrupts/pic.c \
 /work/main/kernel/interrupts/pic.h /work/main/kernel/io.h
/work/main/kernel/interrupts/pic.h:
/work/main/kernel/io.h:
