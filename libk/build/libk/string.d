/work/main/libk/build/libk/string.o: string.c include/libk/string.h
include/libk/string.h:
