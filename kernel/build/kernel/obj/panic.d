/work/main/kernel/build/kernel/obj/panic.o: panic.c panic.h console.h \
 cpu.h qemu_exit.h
panic.h:
console.h:
cpu.h:
qemu_exit.h:
