/work/main/libk/build/host/libk/memory_map.plain.o: memory_map.c \
 include/libk/memory_map.h
include/libk/memory_map.h:
