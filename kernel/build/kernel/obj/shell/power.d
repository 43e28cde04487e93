/work/main/kernel/build/kernel/obj/shell/power.o: shell/power.c \
 /work/main/kernel/shell/power.h /work/main/kernel/console.h \
 /work/main/kernel/cpu.h /work/main/kernel/io.h
/work/main/kernel/shell/power.h:
/work/main/kernel/console.h:
/work/main/kernel/cpu.h:
/work/main/kernel/io.h:
