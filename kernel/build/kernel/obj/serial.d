/work/main/kernel/build/kernel/obj/serial.o: serial.c serial.h io.h
serial.h:
io.h:
