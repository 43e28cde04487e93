/work/main/kernel/build/kernel/obj/cpu/backtrace.o: cpu/backtrace.c \
 /work/main/kernel/cpu/backtrace.h \
 /work/main/kernel/../libk/include/libk/printf.h \
 /work/main/kernel/console.h /work/main/kernel/cpu/gdt.h \
 /work/main/kernel/cpu/stack.h /work/main/kernel/cpu/symbols.h
/work/main/kernel/cpu/backtrace.h:
/work/main/kernel/../libk/include/libk/printf.h:
/work/main/kernel/console.h:
/work/main/kernel/cpu/gdt.h:
/work/main/kernel/cpu/stack.h:
/work/main/kernel/cpu/symbols.h:
