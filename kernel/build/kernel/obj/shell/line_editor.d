/work/main/kernel/build/kernel/obj/shell/line_editor.o: \
 shell/line_editor.c /work/main/kernel/shell/line_editor.h \
 /work/main/kernel/console.h
/work/main/kernel/shell/line_editor.h:
/work/main/kernel/console.h:
