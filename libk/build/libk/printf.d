/work/main/libk/build/libk/printf.o: printf.c include/libk/printf.h \
 include/libk/string.h
include/libk/printf.h:
include/libk/string.h:
