/work/main/kernel/build/kernel/obj/cpu/fault_demo.o: cpu/fault_demo.c \
 /work/main/kernel/cpu/fault_demo.h \
 /work/main/kernel/../libk/include/libk/string.h
/work/main/kernel/cpu/fault_demo.h:
/work/main/kernel/../libk/include/libk/string.h:
