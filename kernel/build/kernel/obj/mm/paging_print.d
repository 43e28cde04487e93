/work/main/kernel/build/kernel/obj/mm/paging_print.o: mm/paging_print.c \
 /work/main/kernel/mm/paging.h /work/main/kernel/console.h \
 /work/main/kernel/cpu/control_registers.h \
 /work/main/kernel/mm/page_table.h
/work/main/kernel/mm/paging.h:
/work/main/kernel/console.h:
/work/main/kernel/cpu/control_registers.h:
/work/main/kernel/mm/page_table.h:
