; mb1_min.asm - the smallest Multiboot 1 kernel, to show that
; tests/support/grub.py boots one through GRUB 2 (tests/test_grub.py).
; mb2_min.asm is its Multiboot 2 twin.
;
; GRUB enters it in 32-bit protected mode, flat segments, paging off, with
; EAX = 0x2BADB002 and EBX = the physical address of the Multiboot
; information (Multiboot specification 0.6.96, "Machine state"). It prints
; on COM1
;
;   mb1_min: magic ok
;   mb1_min: cmdline=<the information's command line>
;   mb1_min: module=<the module's string> bytes=<its size, 8 hex digits>
;   mb1_min: done
;
; (one module line per module, in order) and ends QEMU through
; isa-debug-exit with 0x10. With another magic in EAX it prints
; "mb1_min: bad magic" and exits with 0x11. It carries a Multiboot 2
; header too, so that GRUB's multiboot2 command starts it with the other
; magic: the test that the check can fail.

bits 32

MB1_HEADER_MAGIC    equ 0x1BADB002      ; in the kernel's header
MB1_HEADER_FLAGS    equ 0               ; nothing asked: GRUB reads the ELF headers
MB1_LOADER_MAGIC    equ 0x2BADB002      ; in EAX at entry
MB2_HEADER_MAGIC    equ 0xE85250D6      ; the Multiboot 2 header (see mb2_min.asm)
MB2_ARCH_I386       equ 0

; The Multiboot information: which fields are valid (flags), the command
; line and the module list (16-byte entries: mod_start, mod_end, string).
MB1_INFO_FLAGS          equ 0
MB1_INFO_CMDLINE        equ 16
MB1_INFO_MODS_COUNT     equ 20
MB1_INFO_MODS_ADDR      equ 24
MB1_FLAG_CMDLINE        equ 1 << 2
MB1_FLAG_MODS           equ 1 << 3
MB1_MODULE_BYTES        equ 16

STACK_BYTES         equ 4096

section .text
; The header must lie 4-byte aligned within the file's first 8 KiB: it
; opens .text, which opens the file's only loaded segment.
align 8
    dd MB1_HEADER_MAGIC
    dd MB1_HEADER_FLAGS
    dd 0x100000000 - (MB1_HEADER_MAGIC + MB1_HEADER_FLAGS)
align 8
mb2_header:
    dd MB2_HEADER_MAGIC
    dd MB2_ARCH_I386
    dd MB2_HEADER_BYTES
    dd 0x100000000 - (MB2_HEADER_MAGIC + MB2_ARCH_I386 + MB2_HEADER_BYTES)
    dw 0, 0                             ; the end tag
    dd 8
MB2_HEADER_BYTES equ $ - mb2_header

global _start
_start:
    mov esp, stack_top
    cmp eax, MB1_LOADER_MAGIC
    jne bad_magic
    mov esi, msg_magic_ok
    call print

    test dword [ebx + MB1_INFO_FLAGS], MB1_FLAG_CMDLINE
    jz .modules
    mov esi, msg_cmdline
    call print
    mov esi, [ebx + MB1_INFO_CMDLINE]
    call print
    call newline
.modules:
    test dword [ebx + MB1_INFO_FLAGS], MB1_FLAG_MODS
    jz .done
    mov edi, [ebx + MB1_INFO_MODS_ADDR]     ; EDI: the current module entry
    mov ebp, [ebx + MB1_INFO_MODS_COUNT]    ; EBP: entries left
.module:
    test ebp, ebp
    jz .done
    mov esi, msg_name
    mov edx, [edi + 8]                  ; the string
    mov ecx, [edi + 4]                  ; mod_end
    sub ecx, [edi]                      ; - mod_start
    call print_module
    add edi, MB1_MODULE_BYTES
    dec ebp
    jmp .module
.done:
    mov esi, msg_done
    call print
    mov al, EXIT_SUCCESS
    jmp exit

%include "grub_probe/probe_output.inc"

section .rodata
msg_magic_ok    db "mb1_min: magic ok", 10, 0
msg_bad_magic   db "mb1_min: bad magic", 10, 0
msg_cmdline     db "mb1_min: cmdline=", 0
msg_name        db "mb1_min: ", 0
msg_done        db "mb1_min: done", 10, 0

section .bss
align 16
stack:
    resb STACK_BYTES
stack_top:
