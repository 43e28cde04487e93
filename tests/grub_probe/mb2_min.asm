; mb2_min.asm - the smallest Multiboot 2 kernel, to show that
; tests/support/grub.py boots one through GRUB 2 (tests/test_grub.py).
;
; GRUB enters it in 32-bit protected mode, flat segments, paging off, with
; EAX = 0x36D76289 and EBX = the physical address of the boot information
; (Multiboot 2 specification, "Machine state"). It prints on COM1
;
;   mb2_min: magic ok
;   mb2_min: cmdline=<the command line tag's string>
;   mb2_min: module=<the module's string> bytes=<its size, 8 hex digits>
;   mb2_min: done
;
; (one module line per module tag, in the order of the tags) and ends QEMU
; through isa-debug-exit with 0x10. With another magic in EAX it prints
; "mb2_min: bad magic" and exits with 0x11.
;
; Linked at 1 MiB as ELF32 by grub.py: nasm -f elf32, ld -m elf_i386.
; mb1_min.asm is the same for Multiboot 1; probe_output.inc has what they
; share.

bits 32

MB2_HEADER_MAGIC    equ 0xE85250D6      ; in the kernel's header
MB2_ARCH_I386       equ 0               ; 32-bit protected mode i386
MB2_LOADER_MAGIC    equ 0x36D76289      ; in EAX at entry

; Tags of the boot information (type, size, then the payload; each tag
; starts on an 8-byte boundary; the first follows total_size and reserved).
MB2_INFO_HEADER_BYTES   equ 8
MB2_TAG_END             equ 0
MB2_TAG_CMDLINE         equ 1           ; string at +8
MB2_TAG_MODULE          equ 3           ; mod_start at +8, mod_end at +12, string at +16

STACK_BYTES         equ 4096

section .text
; The header must lie 8-byte aligned within the file's first 32 KiB: it
; opens .text, which opens the file's only loaded segment.
align 8
mb2_header:
    dd MB2_HEADER_MAGIC
    dd MB2_ARCH_I386
    dd MB2_HEADER_BYTES
    dd 0x100000000 - (MB2_HEADER_MAGIC + MB2_ARCH_I386 + MB2_HEADER_BYTES)
    dw 0, 0                             ; the end tag: type 0, flags 0,
    dd 8                                ; size 8
MB2_HEADER_BYTES equ $ - mb2_header

global _start
_start:
    mov esp, stack_top
    cmp eax, MB2_LOADER_MAGIC
    jne bad_magic
    mov esi, msg_magic_ok
    call print

    lea edi, [ebx + MB2_INFO_HEADER_BYTES]  ; EDI: the current tag
.tag:
    mov eax, [edi]
    cmp eax, MB2_TAG_END
    je .done
    cmp eax, MB2_TAG_CMDLINE
    jne .not_cmdline
    mov esi, msg_cmdline
    call print
    lea esi, [edi + 8]
    call print
    call newline
    jmp .next
.not_cmdline:
    cmp eax, MB2_TAG_MODULE
    jne .next
    mov esi, msg_name
    lea edx, [edi + 16]                 ; the string
    mov ecx, [edi + 12]                 ; mod_end
    sub ecx, [edi + 8]                  ; - mod_start
    call print_module
.next:
    mov eax, [edi + 4]                  ; size, without the padding to 8
    add eax, 7
    and eax, ~7
    add edi, eax
    jmp .tag
.done:
    mov esi, msg_done
    call print
    mov al, EXIT_SUCCESS
    jmp exit

%include "grub_probe/probe_output.inc"

section .rodata
msg_magic_ok    db "mb2_min: magic ok", 10, 0
msg_bad_magic   db "mb2_min: bad magic", 10, 0
msg_cmdline     db "mb2_min: cmdline=", 0
msg_name        db "mb2_min: ", 0
msg_done        db "mb2_min: done", 10, 0

section .bss
align 16
stack:
    resb STACK_BYTES
stack_top:
