; stage2.asm - the second stage: from real mode to a 64-bit kernel.
;
; Provides:
;   stage2_main: the entry point; stage 1 jumps here (over the stage 2 header).
;       in: DL = boot drive, DH = the drive number the BIOS gave stage 1
;       out: does not return (jumps to the kernel)   clobbers: everything
; Provides data:
;   (nothing: every other file is called from here)
; Uses:
;   a20.inc: enable_a20
;   boot_info.inc: BOOT_INFO_CMDLINE_MAX, BOOT_INFO_MAGIC, BOOT_INFO_VERSION,
;       TIMESTAMP_A20_ENABLED, TIMESTAMP_MEMORY_MAP_READ,
;       TIMESTAMP_PAGE_TABLES_BUILT, TIMESTAMP_STAGE2_START, boot_info,
;       boot_info_size
;   console.inc: print, print_char, print_hex64, print_hex8
;   cpu_check.inc: check_long_mode
;   disk.inc: disk_init
;   kernel_kind.inc: check_kernel_kind
;   kernel_load.inc: load_kernel
;   linux_boot.inc: boot_linux
;   loader_fields.inc: KERNEL_KIND_LINUX, KERNEL_KIND_MULTIBOOT1,
;       KERNEL_KIND_MULTIBOOT2,
;       STAGE2_HEADER_VERSION,
;       STAGE2_LOAD_ADDRESS, STAGE2_MAGIC, stage2_header, stage2_header_size
;   long_mode.inc: enter_long_mode
;   magic_break.inc: MAGIC_BREAK
;   memory_layout.inc: BOOT_INFO_ADDRESS, BOOT_INFO_AREA_SIZE,
;       KERNEL_STACK_BOTTOM, KERNEL_STACK_TOP, LOADER_MEMORY_END,
;       LOADER_MEMORY_START, REAL_MODE_STACK_TOP, STAGE2_VARIABLES_ADDRESS,
;       STAGE2_VARIABLES_SIZE
;   memory_map.inc: read_memory_map
;   multiboot1.inc: boot_multiboot1
;   multiboot2.inc: boot_multiboot2
;   page_tables.inc: build_page_tables
;   screen.inc: screen_init
;   self_check.inc: check_stage2_checksum
;   serial.inc: serial_drain, serial_init
;   timestamps.inc: record_timestamp
;
; Stage 1 loaded us at 0x7E00 and jumped here with the boot drive in DL.
; Each step is one file in stage2/ and prints one line on the screen and on
; COM1:
;   0. check that stage 2 itself arrived whole        (self_check.inc)
;   1. check that the CPU can run 64-bit code        (cpu_check.inc)
;   2. open the A20 gate                             (a20.inc)
;   3. read the firmware memory map                  (memory_map.inc)
;   4. read, check and place the kernel ELF          (disk.inc, kernel_load.inc, elf_check.inc)
;   5. build identity-mapping page tables            (page_tables.inc)
;   6. switch to long mode and jump to the kernel    (long_mode.inc)
; A Multiboot2 or Multiboot 1 kernel (the kind mkimage recorded,
; kernel_kind.inc) takes steps 5-6 differently: it gets its modules and its
; information structure and starts in 32-bit protected mode (multiboot2.inc,
; multiboot1.inc, protected_mode_handoff.inc). A Linux bzImage gets its
; initrd and starts in real mode at its setup code (linux_boot.inc).
; Any failure prints what went wrong and halts (failure.inc); a routine
; that can fail without halting says so with the carry flag (CF set).
;
; NASM gives all these files one namespace, so each one opens with a header
; like the one above: the routines it provides with their register
; contract (in, out, clobbered, failure) and every name it uses from
; another file. tests/test_stage2_interfaces.py checks those lists against
; the code. Facts several files need live in one place: stage2/hardware.inc
; (BIOS services, CPU registers, I/O ports), stage2/elf.inc (the ELF
; format), stage2/memory_layout.inc (where things go in memory).
; docs/boot-flow.md walks through these steps; docs/boot-protocol.md says
; what the kernel gets.

%include "loader_fields.inc"
%include "magic_break.inc"
%include "boot_info.inc"
%include "stage2/memory_layout.inc"
%include "stage2/hardware.inc"
%include "stage2/elf.inc"
%include "stage2/timestamps.inc"        ; a macro: defined before its first use

bits 16
org STAGE2_LOAD_ADDRESS

; Code and constant data go to .text, loaded from the disk; every variable
; goes to .bss, which lies at STAGE2_VARIABLES_ADDRESS, takes no room in
; the file, and is cleared first thing.
section .text
section .bss nobits vstart=STAGE2_VARIABLES_ADDRESS
stage2_variables_start:
section .text

stage2_header_block:
    istruc stage2_header
        at stage2_header.jump,    jmp near stage2_main
        at stage2_header.magic,   dd STAGE2_MAGIC
        at stage2_header.version, dw STAGE2_HEADER_VERSION
        at stage2_header.size,    dw stage2_header_size
        ; kernel_lba, kernel_sectors, kernel_size, kernel_checksum,
        ; kernel_kind and cmdline are zero here and filled in by the image
        ; builder.
    iend

stage2_main:
    MAGIC_BREAK                         ; debug builds: stop in Bochs (magic_break.inc)
    cli
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, REAL_MODE_STACK_TOP
    sti
    cld
    mov di, STAGE2_VARIABLES_ADDRESS    ; RAM is not zero at boot
    mov cx, STAGE2_VARIABLES_SIZE / 2
    rep stosw                           ; (AX = 0; DL and DH still hold the drives)
    mov [boot_drive], dl
    mov [drive_from_bios], dh           ; stage 1 passes the BIOS's own number in DH

    call serial_init
    call screen_init
    mov si, banner_message
    call print
    mov al, [boot_drive]
    call print_hex8
    mov si, banner_end_message
    call print
    mov al, [drive_from_bios]
    cmp al, [boot_drive]
    je .drive_number_as_given
    mov si, bogus_drive_message
    call print
    call print_hex8
    mov si, bogus_drive_end_message
    call print
.drive_number_as_given:

    ; Before anything else trusts stage 2's code or its header: did it
    ; arrive whole? (It can say so now that the screen and COM1 work.)
    call check_stage2_checksum
    call start_boot_info
    call check_long_mode
    record_timestamp TIMESTAMP_STAGE2_START
    call enable_a20
    record_timestamp TIMESTAMP_A20_ENABLED
    call read_memory_map
    record_timestamp TIMESTAMP_MEMORY_MAP_READ
    call check_kernel_kind
    mov dl, [boot_drive]
    call disk_init
    call load_kernel
    cmp dword [STAGE2_LOAD_ADDRESS + stage2_header.kernel_kind], KERNEL_KIND_MULTIBOOT2
    je boot_multiboot2
    cmp dword [STAGE2_LOAD_ADDRESS + stage2_header.kernel_kind], KERNEL_KIND_MULTIBOOT1
    je boot_multiboot1
    cmp dword [STAGE2_LOAD_ADDRESS + stage2_header.kernel_kind], KERNEL_KIND_LINUX
    je boot_linux
    call build_page_tables
    record_timestamp TIMESTAMP_PAGE_TABLES_BUILT

    mov si, jumping_message
    call print
    mov si, BOOT_INFO_ADDRESS + boot_info.kernel_entry
    call print_hex64
    mov al, 10
    call print_char
    call serial_drain
    jmp enter_long_mode

; start_boot_info: clear the block (RAM holds garbage at boot) and fill in
; what is known already: magic, version, size, drive, loader memory, the
; kernel's stack, the command line.
start_boot_info:
    mov di, BOOT_INFO_ADDRESS
    xor ax, ax
    mov cx, BOOT_INFO_AREA_SIZE / 2
    rep stosw
    mov dword [BOOT_INFO_ADDRESS + boot_info.magic], BOOT_INFO_MAGIC
    mov word [BOOT_INFO_ADDRESS + boot_info.version], BOOT_INFO_VERSION
    mov word [BOOT_INFO_ADDRESS + boot_info.size], boot_info_size
    mov al, [boot_drive]
    mov [BOOT_INFO_ADDRESS + boot_info.boot_drive], al
    mov dword [BOOT_INFO_ADDRESS + boot_info.loader_start], LOADER_MEMORY_START
    mov dword [BOOT_INFO_ADDRESS + boot_info.loader_end], LOADER_MEMORY_END
    mov dword [BOOT_INFO_ADDRESS + boot_info.stack_bottom], KERNEL_STACK_BOTTOM
    mov dword [BOOT_INFO_ADDRESS + boot_info.stack_top], KERNEL_STACK_TOP

    mov si, STAGE2_LOAD_ADDRESS + stage2_header.cmdline
    mov di, BOOT_INFO_ADDRESS + boot_info.cmdline
    mov cx, BOOT_INFO_CMDLINE_MAX - 1   ; the last byte stays 0: always terminated
    rep movsb

    mov si, cmdline_message
    call print
    mov si, BOOT_INFO_ADDRESS + boot_info.cmdline
    call print
    mov si, cmdline_end_message
    call print
    ret

section .bss                            ; variables: see STAGE2_VARIABLES_ADDRESS
boot_drive:             resb 1
drive_from_bios:        resb 1
section .text
bogus_drive_message:    db "stage2: warning: the BIOS passed boot drive 0x", 0
bogus_drive_end_message: db ", which is no disk number; stage 1 used 0x80, the first hard disk", 10, 0
banner_message:         db 10, "bootstack stage 2: loader started (boot drive 0x", 0
banner_end_message:     db ")", 10, 0
cmdline_message:        db 'stage2: kernel command line: "', 0
cmdline_end_message:    db '"', 10, 0
jumping_message:        db "stage2: entering long mode, jumping to the kernel at ", 0

%include "stage2/serial.inc"
%include "stage2/screen.inc"
%include "stage2/console.inc"
%include "stage2/failure.inc"
%include "stage2/self_check.inc"        ; early: a truncated stage 2 still reaches it
%include "stage2/cpu_check.inc"
%include "stage2/a20.inc"
%include "stage2/memory_map.inc"
%include "stage2/disk.inc"
%include "stage2/descriptor_table.inc"
%include "stage2/unreal_mode.inc"
%include "stage2/elf_check.inc"
%include "stage2/kernel_kind.inc"
%include "stage2/kernel_load.inc"
%include "stage2/page_tables.inc"
%include "stage2/long_mode.inc"
%include "stage2/fault_names.inc"       ; before both IDTs: their %rep and %if need it
%include "stage2/fault_report.inc"
%include "stage2/fault_report_32.inc"
%include "stage2/modules.inc"
%include "stage2/multiboot_elf.inc"
%include "stage2/multiboot_sections.inc"
%include "stage2/multiboot2.inc"
%include "stage2/multiboot1.inc"
%include "stage2/protected_mode_handoff.inc"
%include "stage2/linux_boot.inc"

section .bss
stage2_variables_end:
; Fails to assemble ("negative") if the variables outgrow their page.
section .variables_fit nobits
    resb STAGE2_VARIABLES_SIZE - (stage2_variables_end - stage2_variables_start)
