; tutorial.asm - a kernel written the way the usual "write your own OS"
; tutorials write one: a Multiboot2 header, a 32-bit entry point that
; checks it was started by a Multiboot2 loader and that the CPU has long
; mode, its own page tables, the switch to 64-bit long mode, and a
; greeting in the VGA text buffer. It shares no code with bootstack's
; loader or kernel; tests/test_multiboot2.py boots it through mkimage and
; stage 2 and reads the screen through QEMU's monitor.
;
; A flat binary (nasm -f bin): the header's address and entry address tags
; (Multiboot2 specification 2.0, 3.1.5 and 3.1.6) say where it goes.
; It prints on COM1 too, then asks QEMU to exit through isa-debug-exit
; (port 0xF4): 0x10 when all went well, 0x11 when a check failed.

LOAD_ADDRESS            equ 0x100000    ; 1 MiB: the file is loaded here whole
MULTIBOOT2_MAGIC        equ 0xE85250D6  ; 3.1.2
ARCHITECTURE_I386       equ 0
LOADER_MAGIC            equ 0x36D76289  ; 3.3: what EAX holds at the entry
TAG_ADDRESS             equ 2
TAG_ENTRY_ADDRESS       equ 3
TAG_END                 equ 0

VGA_TEXT                equ 0xB8000
GREEN_ON_BLACK          equ 0x0A        ; attribute byte of each character cell
COM1                    equ 0x3F8
COM1_LINE_STATUS        equ COM1 + 5
  TRANSMIT_EMPTY        equ 0x20
DEBUG_EXIT_PORT         equ 0xF4
EXIT_SUCCESS            equ 0x10
EXIT_FAILURE            equ 0x11

PAGE_PRESENT            equ 1 << 0
PAGE_WRITABLE           equ 1 << 1
PAGE_HUGE               equ 1 << 7      ; a 2 MiB page in a page directory entry
TWO_MIB                 equ 0x200000
CR4_PAE                 equ 1 << 5
CR0_PAGING              equ 1 << 31
MSR_EFER                equ 0xC0000080
EFER_LME                equ 1 << 8
EFLAGS_ID               equ 1 << 21
CPUID_EXTENDED          equ 0x80000000
CPUID_LONG_MODE_BIT     equ 1 << 29     ; leaf 0x80000001, EDX

bits 32
org LOAD_ADDRESS

multiboot2_header:
    dd MULTIBOOT2_MAGIC
    dd ARCHITECTURE_I386
    dd header_end - multiboot2_header
    dd -(MULTIBOOT2_MAGIC + ARCHITECTURE_I386 + (header_end - multiboot2_header))
align 8
    dw TAG_ADDRESS, 0
    dd 24
    dd multiboot2_header                ; header_addr: where these bytes land
    dd LOAD_ADDRESS                     ; load_addr: the file's first byte goes here
    dd 0                                ; load_end_addr 0: the whole file
    dd bss_end                          ; bss_end_addr: zeroed up to here
align 8
    dw TAG_ENTRY_ADDRESS, 0
    dd 12
    dd start
align 8
    dw TAG_END, 0
    dd 8
header_end:

start:
    mov esp, stack_top                  ; the loader gives no stack
    mov esi, no_multiboot_message
    cmp eax, LOADER_MAGIC
    jne fail_32

    mov esi, no_cpuid_message           ; CPUID exists when EFLAGS.ID can flip
    pushfd
    pop eax
    mov ecx, eax
    xor eax, EFLAGS_ID
    push eax
    popfd
    pushfd
    pop eax
    push ecx
    popfd
    cmp eax, ecx
    je fail_32
    mov esi, no_long_mode_message
    mov eax, CPUID_EXTENDED
    cpuid
    cmp eax, CPUID_EXTENDED + 1
    jb fail_32
    mov eax, CPUID_EXTENDED + 1
    cpuid
    test edx, CPUID_LONG_MODE_BIT
    jz fail_32

    ; Identity-map the first GiB with 2 MiB pages: PML4[0] -> PDPT[0] -> PD.
    mov eax, pdpt
    or eax, PAGE_PRESENT | PAGE_WRITABLE
    mov [pml4], eax
    mov eax, page_directory
    or eax, PAGE_PRESENT | PAGE_WRITABLE
    mov [pdpt], eax
    xor ecx, ecx
.map_next:
    mov eax, TWO_MIB
    mul ecx
    or eax, PAGE_PRESENT | PAGE_WRITABLE | PAGE_HUGE
    mov [page_directory + ecx * 8], eax
    inc ecx
    cmp ecx, 512
    jne .map_next

    mov eax, pml4
    mov cr3, eax
    mov eax, cr4
    or eax, CR4_PAE
    mov cr4, eax
    mov ecx, MSR_EFER
    rdmsr
    or eax, EFER_LME
    wrmsr
    mov eax, cr0
    or eax, CR0_PAGING
    mov cr0, eax
    lgdt [gdt64_pointer]
    jmp gdt64_code:long_mode_start

; fail_32: ESI = message; print it on COM1 and exit with EXIT_FAILURE.
fail_32:
    call serial_print
    mov al, EXIT_FAILURE
    out DEBUG_EXIT_PORT, al
.halt:
    hlt
    jmp .halt

; serial_print: the NUL-terminated string at ESI on COM1 (32 or 64-bit code).
serial_print:
    mov dx, COM1_LINE_STATUS
.wait:
    in al, dx
    test al, TRANSMIT_EMPTY
    jz .wait
    lodsb
    test al, al
    jz .done
    mov dx, COM1
    out dx, al
    jmp serial_print
.done:
    ret

bits 64
long_mode_start:
    xor ax, ax                          ; data segments mean nothing in long mode
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov rsi, greeting                   ; the greeting in the VGA text buffer, row 0
    mov rdi, VGA_TEXT
    mov ah, GREEN_ON_BLACK
.next_char:
    lodsb
    test al, al
    jz .on_screen
    stosw
    jmp .next_char
.on_screen:
    mov rsi, greeting
    call serial_print                   ; the same bytes work in 64-bit mode
    mov rsi, newline
    call serial_print
    mov al, EXIT_SUCCESS
    out DEBUG_EXIT_PORT, al
.halt:                                  ; without the exit device: stay here
    hlt
    jmp .halt

greeting:               db "tutorial kernel: hello from 64-bit long mode", 0
newline:                db 13, 10, 0
no_multiboot_message:   db "tutorial kernel: not started by a Multiboot2 loader", 13, 10, 0
no_cpuid_message:       db "tutorial kernel: no CPUID", 13, 10, 0
no_long_mode_message:   db "tutorial kernel: no long mode", 13, 10, 0

align 8
gdt64:
    dq 0
gdt64_code equ $ - gdt64
    dq (1 << 43) | (1 << 44) | (1 << 47) | (1 << 53)    ; code, not system, present, 64-bit
gdt64_pointer:
    dw $ - gdt64 - 1
    dq gdt64

section .bss align=4096
pml4:           resb 4096
pdpt:           resb 4096
page_directory: resb 4096
stack:          resb 4096
stack_top:
bss_end:
