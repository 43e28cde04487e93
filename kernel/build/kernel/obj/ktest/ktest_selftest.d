/work/main/kernel/build/kernel/obj/ktest/ktest_selftest.o: \
 ktest/ktest_selftest.c /work/main/kernel/ktest/ktest.h
/work/main/kernel/ktest/ktest.h:
