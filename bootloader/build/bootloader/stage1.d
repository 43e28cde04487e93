/work/main/bootloader/build/bootloader/stage1.bin : stage1.asm \
  loader_fields.inc magic_break.inc

stage1.asm :

loader_fields.inc :

magic_break.inc :

