/work/main/libk/build/libk/memory_map.o: memory_map.c \
 include/libk/memory_map.h
include/libk/memory_map.h:
