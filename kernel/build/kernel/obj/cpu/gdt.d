/work/main/kernel/build/kernel/obj/cpu/gdt.o: cpu/gdt.c \
 /work/main/kernel/cpu/gdt.h \
 /work/main/kernel/../libk/include/libk/string.h
/work/main/kernel/cpu/gdt.h:
/work/main/kernel/../libk/include/libk/string.h:
