/work/main/libk/build/host/libk/string.plain.o: string.c \
 include/libk/string.h
include/libk/string.h:
