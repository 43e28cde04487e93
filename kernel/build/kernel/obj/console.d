/work/main/kernel/build/kernel/obj/console.o: console.c console.h \
 /work/main/kernel/../libk/include/libk/printf.h \
 /work/main/kernel/../libk/include/libk/string.h cpu/control_registers.h \
 serial.h vga.h
console.h:
/work/main/kernel/../libk/include/libk/printf.h:
/work/main/kernel/../libk/include/libk/string.h:
cpu/control_registers.h:
serial.h:
vga.h:
