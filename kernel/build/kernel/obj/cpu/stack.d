/work/main/kernel/build/kernel/obj/cpu/stack.o: cpu/stack.c \
 /work/main/kernel/cpu/stack.h
/work/main/kernel/cpu/stack.h:
