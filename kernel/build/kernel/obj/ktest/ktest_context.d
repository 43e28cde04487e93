/work/main/kernel/build/kernel/obj/ktest/ktest_context.o : \
  ktest/ktest_context.asm

ktest/ktest_context.asm :

