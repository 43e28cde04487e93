/work/main/kernel/build/kernel/obj/qemu_exit.o: qemu_exit.c qemu_exit.h \
 io.h
qemu_exit.h:
io.h:
