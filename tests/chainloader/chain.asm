; chain.asm - a test boot sector that starts another disk's boot sector
; with a drive number of our choosing in DL.
;
; Why: a boot sector must use the drive number the BIOS passes in DL, but
; SeaBIOS (QEMU's BIOS) always numbers the disk it boots from 0x80, so a
; plain boot can never show whether stage 1 really reads DL. Booted from a
; floppy instead, this sector plays the BIOS's part: it loads sector 0 of
; hard disk SOURCE_DRIVE to 0000:7C00 and jumps there with DL = PASS_DL,
; which may be the right number, another disk's, or nonsense.
; tests/test_drive_number.py assembles it with both values:
;
;   nasm -f bin -DSOURCE_DRIVE=0x81 -DPASS_DL=0x81 -o chain.bin chain.asm
;
; Steps:
;   1. move out of 0x7C00 (to RELOCATED_ADDRESS), since the sector we load
;      must go exactly there;
;   2. read sector 0 of SOURCE_DRIVE with INT 13h AH=02h (cylinder 0, head
;      0, sector 1: every BIOS can address that by CHS), a few tries with a
;      disk reset in between;
;   3. check its boot signature 0x55 0xAA;
;   4. with the switches below: hook INT 15h, shut the A20 gate;
;   5. print "chain: booting drive 0xSS with DL=0xDD" on COM1 and jump to
;      0000:7C00 with DL = PASS_DL.
; A failed read prints the BIOS's error code, a missing signature says so;
; both then halt. Output goes to COM1 only: the tests read the serial port.

%ifndef SOURCE_DRIVE
  %error "assemble with -DSOURCE_DRIVE=0x80 (or another BIOS drive number)"
%endif
%ifndef PASS_DL
  %error "assemble with -DPASS_DL=0x80 (the value to hand over in DL)"
%endif
; Some BIOSes enter the boot sector at 07C0:0000 rather than 0000:7C00 (the
; same physical byte). -DENTER_AT_07C0 makes us do the same, so tests can
; check that stage 1 copes.
;
; A20: SeaBIOS hands over with the A20 gate open, so a loader that never
; opens it would look fine. These switches leave the machine as other
; BIOSes do (the a20 lab, tests/labs/checks/a20.py, boots through them):
;   -DSHUT_A20           close the gate at both of its switches, port 0x92
;                        bit 1 and the 8042's output port bit 1, then check
;                        that 0x100500 really wraps to 0x000500 (if not,
;                        print "chain: A20 stayed on" and halt)
;   -DPORT_92_READS_ON   with SHUT_A20: leave port 0x92 bit 1 set, so the
;                        port looks like a fast A20 gate that is wired to
;                        nothing (QEMU's A20 line follows the last write to
;                        either switch, and the 8042's comes second)
;   -DBIOS_A20_SAYS_YES  hook INT 15h so that AX=2401h (enable A20) returns
;                        success, CF clear and AH = 0, and does nothing, as
;                        a BIOS whose A20 call is a stub; every other INT 15h
;                        call goes on to the BIOS. The hooks (this one and
;                        E820_QUIRKS's) live where we are, from
;                        RELOCATED_ADDRESS to 0x9FF, which the loader leaves
;                        alone (it uses 0x1000 and up; 0x500 only for one
;                        byte of its own wrap test).
;
; E820h: SeaBIOS answers INT 15h EAX=E820h the simple way (20-byte entries,
; none empty, the last with EBX = 0). -DE820_QUIRKS hooks INT 15h with the
; ways other BIOSes answer (the e820 lab boots through it):
;   - first an entry of length 0;
;   - then a 24-byte entry whose ACPI 3.0 attributes lack bit 0, "ignore
;     this entry" (it claims RAM that is not there);
;   - then the BIOS's own entries, 20 bytes each: the attributes dword is
;     not written, so it still holds the "ignore" of the entry before
;     unless the caller sets it before each call;
;   - the BIOS's last entry comes back with EBX not 0, and the next call
;     ends the list with CF set alone: EAX still "SMAP", EBX 0, the buffer
;     untouched (the other registers are undefined with CF set, so only a
;     caller that trusts them is caught).
; That hook does not fit this sector: it is the floppy's second sector
; (the binary is then 1024 bytes), read to RELOCATED_ADDRESS + 512 before
; step 2. It cannot be combined with BIOS_A20_SAYS_YES.

BOOT_SECTOR_ADDRESS equ 0x7C00      ; where the BIOS loads us, and where we load the next sector
RELOCATED_ADDRESS   equ 0x0600      ; free conventional memory above the BIOS data area
SECTOR_BYTES        equ 512
BOOT_SIGNATURE      equ 0xAA55      ; the bytes 0x55 0xAA, read as a little-endian word
SIGNATURE_OFFSET    equ 510
READ_TRIES          equ 3

BIOS_DISK           equ 0x13
  DISK_RESET        equ 0x00        ; AH=00h: reset the disk system
  DISK_READ_CHS     equ 0x02        ; AH=02h: read sectors by cylinder/head/sector
FIRST_SECTOR_CHS    equ 0x0001      ; CX: cylinder 0 (CH), sector 1 (CL, counted from 1)
FIRST_HEAD          equ 0           ; DH

%ifdef BIOS_A20_SAYS_YES
  %ifdef E820_QUIRKS
    %error "BIOS_A20_SAYS_YES and E820_QUIRKS both hook INT 15h: choose one"
  %endif
  %define HOOK_INT15
%endif
%ifdef E820_QUIRKS
  %define HOOK_INT15
%endif
SECOND_SECTOR_CHS   equ 0x0002      ; CX: cylinder 0, sector 2
BIOS_SYSTEM         equ 0x15
  BIOS_A20_ENABLE   equ 0x2401      ; INT 15h AX=2401h: enable A20 (PS/2 BIOSes and later)
INT15_VECTOR        equ BIOS_SYSTEM * 4     ; the real-mode vector table: 4 bytes (offset, segment) each
FLAGS_CARRY         equ 0x01        ; bit 0 of FLAGS
SYSTEM_CONTROL_PORT_A equ 0x92      ; bit 1: fast A20 gate; bit 0: reset (never write it as 1)
  PORT_A_FAST_A20   equ 0x02
  PORT_A_RESET      equ 0x01
KBC_DATA            equ 0x60        ; 8042: data for a command
KBC_STATUS_COMMAND  equ 0x64        ; 8042: read status, write command
  KBC_INPUT_FULL    equ 0x02        ; status bit 1: it has not taken our last byte yet
  KBC_WRITE_OUTPUT_PORT equ 0xD1    ; command: the next data byte goes to the output port
  KBC_OUTPUT_A20_OFF equ 0xDD       ; output port: bit 1 (A20) clear, bit 0 (reset line) high = no reset
KBC_WAIT_LOOPS      equ 0xFFFF      ; status reads before we stop waiting
WRAP_LOW            equ 0x0500      ; 0000:0500 = physical 0x000500
WRAP_HIGH_SEGMENT   equ 0xFFFF      ; FFFF:0510 = physical 0x100500, or 0x000500 with A20 off
WRAP_HIGH_OFFSET    equ 0x0510


bits 16
org RELOCATED_ADDRESS

start:
    ; Until the far jump below we run at 0x7C00 but are assembled for
    ; RELOCATED_ADDRESS: no absolute address of our own may be used here.
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, BOOT_SECTOR_ADDRESS     ; the stack grows down from below 0x7C00
    sti
    cld
    mov si, BOOT_SECTOR_ADDRESS
    mov di, RELOCATED_ADDRESS
    mov cx, SECTOR_BYTES / 2
    rep movsw
    jmp 0:relocated

relocated:
%ifdef E820_QUIRKS
    ; Our second sector, from the disk the BIOS booted (DL, still as it gave it).
    mov ax, (DISK_READ_CHS << 8) | 1
    mov bx, RELOCATED_ADDRESS + SECTOR_BYTES
    mov cx, SECOND_SECTOR_CHS
    mov dh, FIRST_HEAD
    mov si, second_sector_unread_message
    int BIOS_DISK
    jc print_and_halt
%endif
    mov di, READ_TRIES
.try_read:
    mov bx, BOOT_SECTOR_ADDRESS     ; ES:BX = 0000:7C00
    mov ax, (DISK_READ_CHS << 8) | 1
    mov cx, FIRST_SECTOR_CHS
    mov dh, FIRST_HEAD
    mov dl, SOURCE_DRIVE
    int BIOS_DISK
    jnc .read_ok
    mov [error_code], ah
    dec di
    jz read_failed
    mov ah, DISK_RESET
    mov dl, SOURCE_DRIVE
    int BIOS_DISK
    jmp .try_read

.read_ok:
    cmp word [BOOT_SECTOR_ADDRESS + SIGNATURE_OFFSET], BOOT_SIGNATURE
    jne no_signature
%ifdef HOOK_INT15
    ; Put int15_hook in front of the BIOS's INT 15h.
    cli                             ; no interrupt may see half a vector
    mov eax, [INT15_VECTOR]
    mov [bios_int15], eax
    mov word [INT15_VECTOR], int15_hook
    mov word [INT15_VECTOR + 2], 0
    sti
%endif
%ifdef SHUT_A20
    ; Close the A20 gate at port 0x92 and at the 8042, then check that
    ; memory wraps at 1 MiB; halt with a message if it does not. (No
    ; message when it does: chain.asm has few bytes to spare.)
    in al, SYSTEM_CONTROL_PORT_A
    and al, ~(PORT_A_FAST_A20 | PORT_A_RESET) & 0xFF
%ifdef PORT_92_READS_ON
    or al, PORT_A_FAST_A20
%endif
    out SYSTEM_CONTROL_PORT_A, al
    call kbc_wait
    mov al, KBC_WRITE_OUTPUT_PORT
    out KBC_STATUS_COMMAND, al
    call kbc_wait
    mov al, KBC_OUTPUT_A20_OFF
    out KBC_DATA, al
    call kbc_wait
    ; With the gate shut, FFFF:0510 is the byte at 0000:0500. (ES goes
    ; back to 0 before the jump below.)
    mov ax, WRAP_HIGH_SEGMENT
    mov es, ax
    mov byte [WRAP_LOW], 0x00
    mov byte [es:WRAP_HIGH_OFFSET], 0xFF
    mov si, a20_still_on_message
    cmp byte [WRAP_LOW], 0xFF
    jne print_and_halt
%endif

    mov si, booting_message
    call print
    mov al, SOURCE_DRIVE
    call print_hex8
    mov si, with_dl_message
    call print
    mov al, PASS_DL
    call print_hex8
    mov si, line_end
    call print

    ; What a BIOS leaves for a boot sector: DL = drive, segments 0.
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov dl, PASS_DL
%ifdef ENTER_AT_07C0
    jmp (BOOT_SECTOR_ADDRESS >> 4):0
%else
    jmp 0:BOOT_SECTOR_ADDRESS
%endif

read_failed:
    mov si, read_failed_message
    call print
    mov al, SOURCE_DRIVE
    call print_hex8
    mov si, bios_error_message
    call print
    mov al, [error_code]
    call print_hex8
    mov si, line_end
    call print
    jmp halt

no_signature:
    mov si, no_signature_message
    call print
    mov al, SOURCE_DRIVE
    call print_hex8
    mov si, no_signature_end
print_and_halt:
    call print
halt:
    cli
    hlt
    jmp halt

%ifdef BIOS_A20_SAYS_YES
; int15_hook: AX=2401h says "done" and does nothing; the rest goes to the BIOS.
int15_hook:
    cmp ax, BIOS_A20_ENABLE
    je .say_yes
    jmp far [cs:bios_int15]
.say_yes:
    xor ah, ah                      ; AH = 0 (success), and XOR clears CF
    sti                             ; as the caller had it (INT cleared IF)
    retf 2                          ; return without the FLAGS the INT pushed: CF stays clear

%endif
%ifdef HOOK_INT15
bios_int15:             dd 0
%endif
%ifdef E820_QUIRKS
second_sector_unread_message: db 13, 10, "chain: cannot read sector 2 of the floppy", 0
%endif

%ifdef SHUT_A20
; kbc_wait: wait (bounded) until the 8042 has taken our last byte.
kbc_wait:
    mov cx, KBC_WAIT_LOOPS
.poll:
    in al, KBC_STATUS_COMMAND
    test al, KBC_INPUT_FULL
    loopnz .poll
    ret

a20_still_on_message:   db 13, 10, "chain: A20 stayed on", 0
%endif

; print_hex8: send AL as two lowercase hex digits to COM1.
print_hex8:
    push ax
    shr al, 4
    call print_hex_digit
    pop ax
print_hex_digit:
    and al, 0x0F
    add al, '0'
    cmp al, '9'
    jbe serial_char
    add al, 'a' - '9' - 1
    ; fall through
%include "serial_com1.inc"

booting_message:        db 13, 10, "chain: booting drive 0x", 0
with_dl_message:        db " with DL=0x", 0
read_failed_message:    db 13, 10, "chain: reading sector 0 of drive 0x", 0
bios_error_message:     db " failed, BIOS error 0x", 0
no_signature_message:   db 13, 10, "chain: drive 0x", 0
no_signature_end:       db " has no boot signature 0x55 0xAA in sector 0", 13, 10, 0
line_end:               db 13, 10, 0
error_code:             db 0

    times SIGNATURE_OFFSET - ($ - $$) db 0   ; fails to assemble if the code grew too big
    dw BOOT_SIGNATURE

%ifdef E820_QUIRKS
; ---- The second sector: INT 15h EAX=E820h with other BIOSes' quirks ----
E820_FUNCTION       equ 0xE820
E820_SMAP           equ 0x534D4150  ; "SMAP"
E820_ENTRY_BYTES    equ 24          ; base, length (8 bytes each), type, ACPI 3.0 attributes
E820_TYPE_USABLE    equ 1
E820_ATTRIBUTE_VALID equ 1          ; attributes bit 0 clear: ignore the entry
; Our continuation values. SeaBIOS counts its own 1, 2, 3...
COOKIE_AFTER_EMPTY   equ 0xC0DE0001
COOKIE_AFTER_IGNORED equ 0xC0DE0002
COOKIE_AFTER_LAST    equ 0xC0DE0003
IGNORED_ENTRY_BASE  equ 0x20000000000   ; 2 TiB: no RAM of these machines is there
IGNORED_ENTRY_LENGTH equ 0x40000000     ; 1 GiB
EMPTY_ENTRY_BASE    equ 0x100000

; int15_hook: E820h as described at the top; everything else goes to the BIOS.
int15_hook:
    cmp eax, E820_FUNCTION
    jne .to_bios
    test ebx, ebx
    jz .give_empty_entry
    cmp ebx, COOKIE_AFTER_EMPTY
    je .give_ignored_entry
    cmp ebx, COOKIE_AFTER_LAST
    je .no_more_entries
    cmp ebx, COOKIE_AFTER_IGNORED
    jne .ask_bios
    xor ebx, ebx                    ; after our two: the BIOS's first entry
.ask_bios:
    pushf                           ; the FLAGS an INT pushes, for the BIOS's IRET
    call far [cs:bios_int15]
    jc .return                      ; the BIOS's error: pass it on
    test ebx, ebx
    jnz .return
    mov ebx, COOKIE_AFTER_LAST      ; its last entry: say "more", and then fail
.return:
    sti                             ; as the caller had it (INT cleared IF)
    retf 2                          ; return with these FLAGS (CF), not the ones the INT pushed
.no_more_entries:
    mov eax, E820_SMAP
    xor ebx, ebx
    stc
    jmp .return
.give_empty_entry:
    push si
    mov si, empty_entry
    mov ebx, COOKIE_AFTER_EMPTY
    jmp .give_entry
.give_ignored_entry:
    push si
    mov si, ignored_entry
    mov ebx, COOKIE_AFTER_IGNORED
.give_entry:                        ; copy the 24 bytes at CS:SI to the caller's ES:DI
    push di
    push cx
    push ds
    push cs
    pop ds
    mov cx, E820_ENTRY_BYTES
    rep movsb
    pop ds
    pop cx
    pop di
    pop si
    mov eax, E820_SMAP
    mov ecx, E820_ENTRY_BYTES
    clc
    jmp .return
.to_bios:
    jmp far [cs:bios_int15]

ignored_entry:      dq IGNORED_ENTRY_BASE, IGNORED_ENTRY_LENGTH
                    dd E820_TYPE_USABLE, 0                      ; attributes: bit 0 clear
empty_entry:        dq EMPTY_ENTRY_BASE, 0
                    dd E820_TYPE_USABLE, E820_ATTRIBUTE_VALID

    times 2 * SECTOR_BYTES - ($ - $$) db 0    ; fails to assemble if the hook grew too big
%endif
