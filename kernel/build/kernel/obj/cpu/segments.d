/work/main/kernel/build/kernel/obj/cpu/segments.o : \
  cpu/segments.asm

cpu/segments.asm :

