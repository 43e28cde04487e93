/work/main/kernel/build/kernel/obj/shell/cpu_info.o: shell/cpu_info.c \
 /work/main/kernel/shell/cpu_info.h /work/main/kernel/console.h \
 /work/main/kernel/cpu/control_registers.h
/work/main/kernel/shell/cpu_info.h:
/work/main/kernel/console.h:
/work/main/kernel/cpu/control_registers.h:
