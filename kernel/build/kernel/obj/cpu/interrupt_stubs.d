/work/main/kernel/build/kernel/obj/cpu/interrupt_stubs.o : \
  cpu/interrupt_stubs.asm

cpu/interrupt_stubs.asm :

