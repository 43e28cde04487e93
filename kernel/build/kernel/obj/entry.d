/work/main/kernel/build/kernel/obj/entry.o : entry.asm

entry.asm :

