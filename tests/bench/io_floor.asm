; io_floor.asm - a boot sector that reads N sectors through INT 13h and exits:
; the I/O floor of the boot benchmark (tests/bench/bench.py).
;
; It reads the same number of sectors the loader reads (stage 2 + kernel),
; in the same way the loader does (INT 13h AH=42h, EDD 3.0 extended read,
; at most 127 sectors a call into the 64 KiB aligned buffer at 0x10000), but
; does nothing with them. Its boot time minus the firmware floor is what
; the BIOS's disk reads alone cost; anything the loader takes beyond that is
; the loader's own work.
;
; The sectors are read from LBA FIRST_LBA on. Their count is a dword at a
; fixed place in this sector, so the benchmark patches one assembled sector
; instead of reassembling it for every size:
;
;   offset 0x1A0  4 bytes  "IOFL" (PARAMETERS_MAGIC), so the patcher can
;                          check it found the right place
;   offset 0x1A4  4 bytes  sectors to read, N (little-endian); -DSECTORS=N
;                          sets it at assembly time (default 0)
;   offset 0x1A8  4 bytes  first LBA (default 1, the sector after this one)
;
; Before exiting it reports on COM1, one line:
;   "io_floor: calls XXXXXXXX sectors XXXXXXXX\n"   (hexadecimal)
; the INT 13h calls it made and the sectors they delivered, so a test can
; check it read what it was asked to. It exits through QEMU's isa-debug-exit
; device with 0x10 (QEMU exit status 33) when every call succeeded, or 0x11
; (status 35) after a failed call or without the EDD extensions.
;
; Build: nasm -f bin io_floor.asm -o io_floor.bin

bits 16
org 0x7C00                      ; where every PC BIOS loads the boot sector

%ifndef SECTORS
  %define SECTORS 0
%endif

SECTOR_SIZE         equ 512
PARAMETERS_OFFSET   equ 0x1A0   ; documented above; bench.py uses the same numbers
PARAMETERS_MAGIC    equ 'IOFL'  ; NASM stores character constants little-endian: bytes "IOFL"
FIRST_LBA           equ 1
BOOT_SIGNATURE      equ 0xAA55

BUFFER_SEGMENT      equ 0x1000  ; 0x1000:0000 = 0x10000, 64 KiB aligned, like the loader's buffer
SECTORS_PER_CALL    equ 127     ; the most many BIOSes move in one call (Phoenix EDD 1.1 limit),
                                ; and 127 * 512 = 0xFE00 bytes stay inside the 64 KiB segment
STACK_TOP           equ 0x7C00  ; grows down from just below this sector

BIOS_DISK           equ 0x13
  DISK_READ_LBA     equ 0x42    ; AH=42h: extended read, DS:SI = disk address packet


DEBUG_EXIT_PORT     equ 0xF4    ; QEMU isa-debug-exit: QEMU exits with (value << 1) | 1
EXIT_VALUE_SUCCESS  equ 0x10    ; -> 33
EXIT_VALUE_FAILURE  equ 0x11    ; -> 35

start:
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, STACK_TOP
    jmp 0:.cs_is_zero           ; some BIOSes jump to 07C0:0000
.cs_is_zero:
    sti
    cld
    mov [drive], dl             ; the BIOS passes the boot drive in DL

    mov eax, [sectors_to_read]
    mov [sectors_left], eax
    mov eax, [first_lba]
    mov [packet.lba], eax

.next_call:
    mov ecx, [sectors_left]
    test ecx, ecx
    jz .all_read
    cmp ecx, SECTORS_PER_CALL
    jbe .count_ok
    mov ecx, SECTORS_PER_CALL
.count_ok:
    mov [packet.sectors], cx
    mov si, packet
    mov dl, [drive]
    mov ah, DISK_READ_LBA
    int BIOS_DISK
    jc .failed                  ; failure: CF set, error code in AH
    test ah, ah
    jnz .failed
    ; The BIOS writes the count it really moved back into the packet.
    movzx ecx, word [packet.sectors]
    inc dword [calls]
    add [sectors_read], ecx
    add [packet.lba], ecx
    adc dword [packet.lba + 4], 0
    sub [sectors_left], ecx
    jbe .all_read               ; (never more than asked, but never loop past 0)
    jecxz .failed               ; a call that moved nothing would loop for ever
    jmp .next_call

.all_read:
    mov bl, EXIT_VALUE_SUCCESS
    jmp report_and_exit
.failed:
    mov bl, EXIT_VALUE_FAILURE

; report_and_exit: BL = value for the isa-debug-exit port.
report_and_exit:
    mov si, calls_text
    call print
    mov eax, [calls]
    call print_hex32
    mov si, sectors_text
    call print
    mov eax, [sectors_read]
    call print_hex32
    mov al, 10
    call serial_char
    mov al, bl
    out DEBUG_EXIT_PORT, al
.halt:                          ; only without the device
    cli
    hlt
    jmp .halt

; print_hex32: EAX as 8 hexadecimal digits.
print_hex32:
    mov cx, 8
.digit:
    rol eax, 4
    push eax
    and al, 0x0F
    add al, '0'
    cmp al, '9'
    jbe .is_digit
    add al, 'a' - '0' - 10
.is_digit:
    call serial_char
    pop eax
    loop .digit
    ret

%include "serial_com1.inc"

calls_text:     db "io_floor: calls ", 0
sectors_text:   db " sectors ", 0

; Counters, in the sector itself so they start at 0.
align 4
calls:          dd 0
sectors_read:   dd 0
sectors_left:   dd 0
drive:          db 0

; INT 13h AH=42h disk address packet (EDD 3.0, T13/1572D, section 8.1).
align 4
packet:
                db 0x10         ; size of the packet
                db 0            ; reserved
.sectors:       dw 0            ; sectors to read; the BIOS returns the count read
.buffer:        dw 0, BUFFER_SEGMENT    ; offset, segment
.lba:           dq 0

    times PARAMETERS_OFFSET - ($ - $$) db 0
parameters:
                dd PARAMETERS_MAGIC
sectors_to_read: dd SECTORS
first_lba:      dd FIRST_LBA

    times SECTOR_SIZE - 2 - ($ - $$) db 0
    dw BOOT_SIGNATURE
