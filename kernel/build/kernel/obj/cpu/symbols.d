/work/main/kernel/build/kernel/obj/cpu/symbols.o: cpu/symbols.c \
 /work/main/kernel/cpu/symbols.h
/work/main/kernel/cpu/symbols.h:
