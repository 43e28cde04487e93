/work/main/libk/build/host/libk/printf.plain.o: printf.c \
 include/libk/printf.h include/libk/string.h
include/libk/printf.h:
include/libk/string.h:
