/work/main/kernel/build/kernel/obj/console_input_test.o: \
 console_input_test.c console.h interrupts/serial_input.h ktest/ktest.h
console.h:
interrupts/serial_input.h:
ktest/ktest.h:
