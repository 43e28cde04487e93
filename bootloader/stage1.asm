; stage1.asm - the boot sector (MBR): load stage 2 from the disk and jump to it.
;
; The BIOS reads the first sector of the boot disk to 0x7C00 and jumps there
; in 16-bit real mode with the boot drive number in DL. This sector has one
; job: read stage 2 (its place on the disk is written into the disk address
; packet below by the image builder) to 0x7E00 and jump to it.
;
; Layout of the 512 bytes (offsets in hex):
;   000-002  jmp short + nop, as a FAT boot sector starts
;   003-059  room for a BIOS Parameter Block: some BIOSes booting a USB stick
;            in floppy emulation write a BPB here, so no code lives here
;   05A-0D9  code, part 1
;   0DA-0DF  left zero: Windows stores a disk timestamp here
;   0E0-1A7  code, part 2, and messages
;   1A8-1B7  disk address packet for stage 2, filled in by the image builder
;   1B8-1BD  disk signature and 2 reserved bytes (the image builder keeps them)
;   1BE-1FD  partition table, four 16-byte entries (written by the image builder)
;   1FE-1FF  boot signature 0x55 0xAA

%include "loader_fields.inc"
%include "magic_break.inc"

bits 16
org STAGE1_LOAD_ADDRESS

BPB_END             equ 0x5A    ; a FAT32 BPB (the longest kind) ends here
TIMESTAMP_AREA      equ 0xDA    ; 6 bytes Windows uses for a disk timestamp
TIMESTAMP_AREA_END  equ 0xE0
DISK_SIGNATURE      equ 0x1B8   ; 4-byte disk signature, then 2 reserved bytes
PARTITION_TABLE     equ 0x1BE
BOOT_SIGNATURE      equ 0xAA55  ; bytes 0x55 0xAA at offset 0x1FE

DISK_READ_TRIES     equ 3       ; floppies and old drives fail the first read while the motor spins up
BOGUS_DRIVE_BITS    equ 0x70    ; set in no floppy (0x00-0x0F) or hard disk (0x80-0x8F) number
FIRST_HARD_DISK     equ 0x80
NO_STAGE2_STATUS    equ 0x00    ; "disk error 0x00": read fine, but no stage 2 magic in it

; BIOS services used here
BIOS_VIDEO          equ 0x10
  VIDEO_TELETYPE    equ 0x0E    ; AH=0Eh: write AL as a teletype character
BIOS_DISK           equ 0x13
  DISK_RESET        equ 0x00    ; AH=00h: reset the disk system
  DISK_READ_CHS     equ 0x02    ; AH=02h: read sectors by cylinder/head/sector
  DISK_GET_GEOMETRY equ 0x08    ; AH=08h: drive parameters
  DISK_EXT_CHECK    equ 0x41    ; AH=41h: are the EDD extensions present?
  DISK_READ_LBA     equ 0x42    ; AH=42h: extended read with a disk address packet
  EDD_CHECK_IN      equ 0x55AA  ; BX value for AH=41h
  EDD_CHECK_OUT     equ 0xAA55  ; BX comes back swapped when extensions exist
  EDD_PACKET_ACCESS equ 1       ; CX bit 0: AH=42h..44h,47h,48h supported

COM1                equ 0x3F8   ; first serial port
  UART_LSR          equ 5       ; line status register
  UART_LSR_THRE     equ 0x20    ; bit 5: transmit holding register empty

start:
    jmp short skip_parameter_block
    nop
    times BPB_END - ($ - $$) db 0

skip_parameter_block:
    ; Debug builds stop here in Bochs (magic_break.inc). Not at 0x7C00:
    ; the jump there must stay the sector's first two bytes (a FAT boot
    ; sector starts so), and the break's 2 bytes fit only here, in the
    ; 3 bytes part 1 has to spare; part 2 has 2 more.
    MAGIC_BREAK
    ; Some BIOSes jump to 07C0:0000 rather than 0000:7C00. Everything here
    ; is assembled for segment 0, so reload CS with a far jump and set the
    ; other segment registers to 0. Interrupts stay off while SS:SP changes.
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, STAGE1_LOAD_ADDRESS     ; the stack grows down from just below us
    jmp 0:segments_are_normalised
segments_are_normalised:
    sti
    cld
    ; Some BIOSes pass a bogus drive number. Disks are 0x80-0x8F and
    ; floppies (a USB stick in floppy emulation too) 0x00-0x0F: bits 4-6
    ; are clear in both. Anything else: assume the first hard disk. Stage 2
    ; gets both numbers (DL used, DH as given) and reports the change.
    mov [drive_from_bios], dl
    test dl, BOGUS_DRIVE_BITS
    jz drive_number_is_plausible
    mov dl, FIRST_HARD_DISK
drive_number_is_plausible:
    mov [boot_drive], dl
    mov bp, [dap + disk_address_packet.sectors]     ; BP = the whole stage 2, kept for retries

    ; LAB stage1_read BEGIN
    ; TODO: ask the BIOS whether it has the INT 13h extensions (EDD) for the drive in DL,
    ; TODO: with the packet calls among them: if so, go to read_stage2 (every read then
    ; TODO: by AH=42h), if not, fall through to use_chs_reads. DL = the boot drive;
    ; TODO: AX, BX, CX may be clobbered. Room is tight: the code before TIMESTAMP_AREA has
    ; TODO: only a few bytes to spare (NASM says "TIMES value ... is negative" when it overflows).
    ; HINT: AH=41h (DISK_EXT_CHECK) with BX = 55AAh (EDD_CHECK_IN) and DL = the drive.
    ; HINT: "yes" is three things at once: CF clear, BX swapped to AA55h (EDD_CHECK_OUT), and
    ; HINT: bit 0 of CX (EDD_PACKET_ACCESS): AH=42h and its siblings are supported.
    ; HINT: floppies have no extensions: a floppy boot must end up in use_chs_reads.
    ; STUB: jmp read_stage2                 ; assume the extensions are there
    ; Ask whether the BIOS has the EDD extensions (LBA reads). Without them
    ; we fall back to cylinder/head/sector reads.
    mov ah, DISK_EXT_CHECK
    mov bx, EDD_CHECK_IN
    int BIOS_DISK
    jc use_chs_reads
    cmp bx, EDD_CHECK_OUT
    jne use_chs_reads
    test cl, EDD_PACKET_ACCESS
    jnz read_stage2
    ; LAB stage1_read END

use_chs_reads:
    ; AH=08h: DH = last head number, CL bits 0-5 = sectors per track.
    ; A non-zero sectors_per_track from here on means "read by CHS".
    mov ah, DISK_GET_GEOMETRY
    mov dl, [boot_drive]
    int BIOS_DISK               ; (ES:DI may now point at a floppy table: ES is reloaded before use)
    jc disk_error
    and cx, CHS_SECTOR_MASK
    mov [sectors_per_track], cx
    movzx dx, dh
    inc dx
    mov [heads], dx
    jmp short read_stage2

; print: write the NUL-terminated string at DS:SI. Changes AL, BX, DX, SI; keeps AH.
print:
    lodsb
    test al, al
    jz return
    call print_char
    jmp short print

; print_hex_digit: print the low 4 bits of AL as a hex digit. Keeps AH.
print_hex_digit:
    ; A classic 3-instruction conversion that fits a boot sector:
    ; 0-9:  CMP sets CF, SBB gives AL+0x96 (0x96-0x9F), DAS subtracts 0x66 -> '0'-'9'
    ; A-F:  CF clear, SBB gives AL+0x97 (0xA1-0xA6), DAS subtracts 0x60 -> 'A'-'F'
    and al, 0x0F
    cmp al, 10
    sbb al, 0x69
    das
    ; fall through
; print_char: write AL on the screen and on COM1. Keeps AX; changes BX, DX.
print_char:
    push ax
    mov ah, VIDEO_TELETYPE
    xor bx, bx                  ; page 0
    int BIOS_VIDEO
    mov dx, COM1 + UART_LSR
.wait_for_uart:
    in al, dx                   ; a real UART drops bytes sent while busy
    test al, UART_LSR_THRE
    jz .wait_for_uart
    pop ax
    mov dx, COM1
    out dx, al
return:
    ret

    times TIMESTAMP_AREA - ($ - $$) db 0    ; fails to assemble if part 1 grew too big
    times TIMESTAMP_AREA_END - TIMESTAMP_AREA db 0

read_stage2:
    ; Read until the packet's sector count reaches zero: everything in one
    ; AH=42h call (stage 2 is at most 64 sectors, within the 127 every BIOS
    ; accepts), or one sector per AH=02h call so no read crosses a track.
    mov di, DISK_READ_TRIES
read_next_piece:
    cmp word [dap + disk_address_packet.sectors], 0
    je stage2_is_loaded
    mov dl, [boot_drive]
    cmp word [sectors_per_track], 0
    jne read_one_sector_chs
    ; LAB stage1_read BEGIN
    ; TODO: read all of stage 2 in one INT 13h AH=42h call, with the disk address packet
    ; TODO: `dap` (below; the image builder wrote stage 2's LBA and sector count into it).
    ; TODO: in: DL = the boot drive, BP = the sector count of the whole stage 2.
    ; TODO: on success: CX = the sectors read, then jmp short piece_was_read.
    ; TODO: on failure: AH = the BIOS's status, then jmp short read_failed (it resets the
    ; TODO: drive and comes back here, up to DISK_READ_TRIES times, then prints the status).
    ; TODO: Room is tight: the code between TIMESTAMP_AREA_END and the packet has only a few
    ; TODO: bytes to spare (NASM says "TIMES value ... is negative" when it overflows).
    ; HINT: AH=42h (DISK_READ_LBA) takes DS:SI = the packet; DS is 0 here.
    ; HINT: the packet (struc disk_address_packet in bootloader/loader_fields.inc): size 16,
    ; HINT: reserved, sector count, buffer offset and segment, 64-bit LBA (EDD 3.0, T13/1572D).
    ; HINT: a failed call writes the count it did transfer into the packet, and the next try
    ; HINT: must ask for the whole of stage 2 again.
    ; HINT: failure is CF set, but some BIOSes report an error in AH alone.
    ; STUB: xor ah, ah                      ; no BIOS call, so no BIOS status: "disk error 0x00"
    ; STUB: jmp short read_failed
    ; A failed AH=42h call writes the count it did transfer into the packet,
    ; so put the full count back before every try.
    mov [dap + disk_address_packet.sectors], bp
    mov si, dap
    mov ah, DISK_READ_LBA
    int BIOS_DISK
    jc read_failed
    test ah, ah                 ; some BIOSes report an error in AH alone
    jnz read_failed
    mov cx, [dap + disk_address_packet.sectors]
    jmp short piece_was_read
    ; LAB stage1_read END

read_one_sector_chs:
    ; LBA -> CHS: sector = LBA mod SPT + 1, head = (LBA / SPT) mod HEADS,
    ; cylinder = LBA / SPT / HEADS. CX packs cylinder bits 0-7 in CH,
    ; cylinder bits 8-9 in CL bits 6-7 and the sector in CL bits 0-5.
    mov ax, [dap + disk_address_packet.lba]
    xor dx, dx
    div word [sectors_per_track]
    mov cl, dl
    inc cl
    xor dx, dx
    div word [heads]
    mov dh, dl
    mov ch, al
    shl ah, CHS_CYLINDER_HIGH_SHIFT
    or cl, ah
    mov dl, [boot_drive]
    les bx, [dap + disk_address_packet.buffer_offset]
    mov ax, (DISK_READ_CHS << 8) | 1
    int BIOS_DISK
    jc read_failed
    test ah, ah
    jnz read_failed
    mov cx, 1

piece_was_read:
    ; CX sectors arrived: move the packet past them.
    sub [dap + disk_address_packet.sectors], cx
    add [dap + disk_address_packet.lba], cx
    shl cx, SECTOR_SHIFT        ; bytes = sectors * 512
    add [dap + disk_address_packet.buffer_offset], cx
    jmp short read_stage2       ; the next piece gets DISK_READ_TRIES tries of its own

read_failed:
    dec di
    jz disk_error
    xor ax, ax                  ; AH=00h: reset the drive, then try again
    mov dl, [boot_drive]
    int BIOS_DISK
    jmp short read_next_piece

stage2_is_loaded:
    ; Jump only into a stage 2: a damaged disk address packet (a wrong
    ; buffer offset, a sector count of 0) leaves no "S2LD" at 0x7E04, and
    ; jumping there would run whatever RAM holds. Stage 2 checks the rest of
    ; itself (stage2/self_check.inc).
    cmp dword [STAGE2_LOAD_ADDRESS + stage2_header.magic], STAGE2_MAGIC
    jne no_stage2_arrived
    mov dx, [boot_drive]        ; DL = the drive we read, DH = what the BIOS said
    jmp STAGE2_LOAD_ADDRESS     ; near: CS is 0 since segments_are_normalised

no_stage2_arrived:
    ; BIOS status 00h means "no error", so no BIOS read failure prints it:
    ; "disk error 0x00" says the reads worked but what arrived is not stage 2.
    mov ah, NO_STAGE2_STATUS
disk_error:
    ; Print "Stage 1: disk error 0xNN" where NN is the BIOS status from AH,
    ; on the screen and on COM1, then halt for good. AH survives print and
    ; print_hex_digit: they change AL only (print_char saves AX).
    mov si, disk_error_message
    call print
    mov al, ah
    shr al, 4
    call print_hex_digit
    mov al, ah
    call print_hex_digit
halt:
    cli
    hlt
    jmp short halt

disk_error_message: db 13, 10, "Stage 1: disk error 0x", 0

boot_drive:         db 0        ; these two stay together: read as one word above
drive_from_bios:    db 0
sectors_per_track:  dw 0        ; 0: the BIOS reads by LBA (AH=42h)
heads:              dw 0

    times STAGE1_DAP_OFFSET - ($ - $$) db 0   ; fails to assemble if the code grew too big
dap:
    istruc disk_address_packet
        at disk_address_packet.size,           db disk_address_packet_size
        at disk_address_packet.reserved,       db 0
        at disk_address_packet.sectors,        dw 0    ; filled in by the image builder
        at disk_address_packet.buffer_offset,  dw STAGE2_LOAD_ADDRESS
        at disk_address_packet.buffer_segment, dw 0
        at disk_address_packet.lba,            dq 0    ; filled in by the image builder
    iend

    times DISK_SIGNATURE - ($ - $$) db 0
    times PARTITION_TABLE - ($ - $$) db 0     ; signature, reserved, then the table
    times 4 * 16 db 0
    dw BOOT_SIGNATURE
