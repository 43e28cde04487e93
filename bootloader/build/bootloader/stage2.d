/work/main/bootloader/build/bootloader/stage2.bin : stage2.asm \
  loader_fields.inc magic_break.inc boot_info.inc \
  stage2/memory_layout.inc stage2/serial.inc stage2/screen.inc \
  stage2/console.inc stage2/failure.inc stage2/cpu_check.inc \
  stage2/a20.inc stage2/memory_map.inc stage2/disk.inc \
  stage2/descriptor_table.inc stage2/unreal_mode.inc \
  stage2/elf_check.inc stage2/kernel_load.inc \
  stage2/page_tables.inc stage2/long_mode.inc

stage2.asm :

loader_fields.inc :

magic_break.inc :

boot_info.inc :

stage2/memory_layout.inc :

stage2/serial.inc :

stage2/screen.inc :

stage2/console.inc :

stage2/failure.inc :

stage2/cpu_check.inc :

stage2/a20.inc :

stage2/memory_map.inc :

stage2/disk.inc :

stage2/descriptor_table.inc :

stage2/unreal_mode.inc :

stage2/elf_check.inc :

stage2/kernel_load.inc :

stage2/page_tables.inc :

stage2/long_mode.inc :

