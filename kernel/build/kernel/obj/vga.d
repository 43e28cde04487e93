/work/main/kernel/build/kernel/obj/vga.o: vga.c vga.h io.h
vga.h:
io.h:
