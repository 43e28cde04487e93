/work/main/kernel/build/kernel/obj/cmdline.o: cmdline.c cmdline.h \
 /work/main/kernel/../libk/include/libk/string.h
cmdline.h:
/work/main/kernel/../libk/include/libk/string.h:
