; firmware_floor.asm - a boot sector that ends QEMU at once: the firmware floor.
;
; The boot benchmark (tests/bench/bench.py) boots this sector to measure what
; everything before the first boot-sector instruction costs: starting QEMU,
; the BIOS's power-on self test, finding the disk and reading this sector to
; 0x7C00. Nothing a loader does can be faster than this.
;
; Build: nasm -f bin firmware_floor.asm -o firmware_floor.bin

bits 16
org 0x7C00                      ; where every PC BIOS loads the boot sector

DEBUG_EXIT_PORT     equ 0xF4    ; QEMU isa-debug-exit: QEMU exits with (value << 1) | 1
EXIT_VALUE_SUCCESS  equ 0x10    ; -> exit status 33
BOOT_SIGNATURE      equ 0xAA55  ; bytes 0x55 0xAA at offset 510: the BIOS boots only such a sector
SECTOR_SIZE         equ 512

start:
    mov al, EXIT_VALUE_SUCCESS
    out DEBUG_EXIT_PORT, al
    ; Without the isa-debug-exit device the write does nothing: stop here.
    ; HLT with interrupts on wakes on every timer tick, hence the loop.
.halt:
    cli
    hlt
    jmp .halt

    times SECTOR_SIZE - 2 - ($ - $$) db 0
    dw BOOT_SIGNATURE
