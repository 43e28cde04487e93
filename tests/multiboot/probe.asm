; probe.asm - a Multiboot kernel that reports the machine state it was
; started in and the information structure it was given, for
; tests/test_multiboot2.py to check against the specification.
;
; Assembled as it is, it is a Multiboot2 kernel; with -DMULTIBOOT1 a
; Multiboot 1 kernel (GNU Multiboot 0.6.96). It is started in 32-bit
; protected mode (Multiboot2 3.3, Multiboot 3.2) and prints on COM1, one
; "probe:" line each:
;   probe: eax=XXXXXXXX ebx=XXXXXXXX eflags=XXXXXXXX cr0=XXXXXXXX
;   probe: cs=XXXX ds=XXXX es=XXXX fs=XXXX gs=XXXX ss=XXXX
;   probe: descriptor XXXX=XXXXXXXXXXXXXXXX        (one per segment register,
;                                                  read from the GDT by SGDT)
;   probe: a20 on|off
;   probe: information XX XX ...                   (Multiboot2: total_size bytes at
;                                                  EBX; Multiboot 1: the first 72)
;   probe: module XX XX ...                        (the bytes of each module, in order)
;   probe: section headers XX XX ...               (Multiboot 1 flags bit 5: the table;
;                                                  Multiboot2 tag 9 has it in "information")
;   probe: section XX XX ...                       (for each section header in order: the
;                                                  sh_size bytes at its sh_addr; none for
;                                                  SHT_NOBITS)
; and for Multiboot 1 the bytes that the structure points to:
;   probe: cmdline, loader name, mmap, mods, module string XX XX ...
;   probe: done
; then exits through isa-debug-exit (0x10). The test, not the probe, judges
; the values: the probe only has to read them before it changes anything.
; A flat binary placed by the header's address fields, or with -DELF an
; object file for ld (nasm -f elf32 or elf64) placed by its program headers;
; as a Multiboot2 ELF file its information request requires the ELF
; sections (tag type 9, 3.6.7).
global start

LOAD_ADDRESS            equ 0x100000
MULTIBOOT2_MAGIC        equ 0xE85250D6
ARCHITECTURE_I386       equ 0
TAG_ADDRESS             equ 2
TAG_ENTRY_ADDRESS       equ 3
TAG_END                 equ 0
TAG_INFORMATION_REQUEST equ 1
COM1                    equ 0x3F8
COM1_LINE_STATUS        equ COM1 + 5
  TRANSMIT_EMPTY        equ 0x20
DEBUG_EXIT_PORT         equ 0xF4
EXIT_SUCCESS            equ 0x10
; Two addresses that differ only in bit 20: with the A20 gate closed,
; the second one would reach the first.
A20_LOW_PROBE           equ 0x200000
A20_HIGH_PROBE          equ 0x300000
SELECTOR_INDEX_MASK     equ 0xFFF8      ; a selector without its RPL and TI bits
INFO_TAG_MODULE         equ 3           ; Multiboot2 3.6.6
INFO_TAG_ELF_SECTIONS   equ 9           ; Multiboot2 3.6.7, as GRUB 2.06 writes it:
  INFO_SECTIONS_NUM     equ 8           ;   u32 num, entsize, shndx, then the table
  INFO_SECTIONS_ENTSIZE equ 12
  INFO_SECTIONS_TABLE   equ 20
; ELF section headers (System V ABI): sh_type at 4; sh_addr and sh_size at
; 12 and 20 (ELF32, u32) or 16 and 32 (ELF64, u64: we read the low dword).
SH_TYPE                 equ 4
SHT_NOBITS              equ 8
ELF64_SECTION_HEADER_SIZE equ 64
ELF32_SH_ADDR           equ 12
ELF32_SH_SIZE           equ 20
ELF64_SH_ADDR           equ 16
ELF64_SH_SIZE           equ 32
; Multiboot 0.6.96, 3.3: fields of the information structure we follow.
MBI1_CMDLINE            equ 16
MBI1_MODS_COUNT         equ 20
MBI1_MODS_ADDR          equ 24
MBI1_SHDR_NUM           equ 28          ; flags bit 5: the ELF section header table
MBI1_SHDR_SIZE          equ 32
MBI1_SHDR_ADDR          equ 36
MBI1_HAS_ELF_SECTIONS   equ 1 << 5
MBI1_MMAP_LENGTH        equ 44
MBI1_MMAP_ADDR          equ 48
MBI1_BOOT_LOADER_NAME   equ 64
MBI1_DUMPED_BYTES       equ 72          ; flags up to apm_table

bits 32
%ifndef ELF
org LOAD_ADDRESS
%endif

%ifdef MULTIBOOT1
; GNU Multiboot 0.6.96, 3.1: magic, flags, checksum, then the address fields
; (flags bit 16). Bits 0 and 1 ask for page-aligned modules and the memory
; information.
MULTIBOOT1_MAGIC        equ 0x1BADB002
%ifdef ELF                              ; the loader reads the ELF program headers
MULTIBOOT1_FLAGS        equ (1 << 0) | (1 << 1)
%else
MULTIBOOT1_FLAGS        equ (1 << 0) | (1 << 1) | (1 << 16)
%endif
multiboot1_header:
    dd MULTIBOOT1_MAGIC
    dd MULTIBOOT1_FLAGS
    dd -(MULTIBOOT1_MAGIC + MULTIBOOT1_FLAGS)
%ifndef ELF
    dd multiboot1_header                ; header_addr
    dd LOAD_ADDRESS                     ; load_addr
    dd 0                                ; load_end_addr: the whole file
    dd bss_end                          ; bss_end_addr
    dd start                            ; entry_addr
%endif
%else
multiboot2_header:
    dd MULTIBOOT2_MAGIC
    dd ARCHITECTURE_I386
    dd header_end - multiboot2_header
    dd -(MULTIBOOT2_MAGIC + ARCHITECTURE_I386 + (header_end - multiboot2_header))
%ifndef ELF                             ; an ELF file is placed by its program headers
align 8, db 0
    dw TAG_ADDRESS, 0
    dd 24
    dd multiboot2_header
    dd LOAD_ADDRESS
    dd 0
    dd bss_end
align 8, db 0
    dw TAG_ENTRY_ADDRESS, 0
    dd 12
    dd start
%else
align 8, db 0
    dw TAG_INFORMATION_REQUEST, 0       ; flags 0: required
    dd 12
    dd INFO_TAG_ELF_SECTIONS
%endif
align 8, db 0
    dw TAG_END, 0
    dd 8
header_end:
%endif

start:
    ; Read what the loader left before an instruction changes it.
    mov [entry_eax], eax
    mov [entry_ebx], ebx
    mov esp, stack_top
    pushfd
    pop dword [entry_eflags]
    mov eax, cr0
    mov [entry_cr0], eax
    mov [entry_cs], cs
    mov [entry_ds], ds
    mov [entry_es], es
    mov [entry_fs], fs
    mov [entry_gs], gs
    mov [entry_ss], ss
    sgdt [gdt_register]

    mov esi, eax_text
    mov eax, [entry_eax]
    call print_labelled_hex32
    mov esi, ebx_text
    mov eax, [entry_ebx]
    call print_labelled_hex32
    mov esi, eflags_text
    mov eax, [entry_eflags]
    call print_labelled_hex32
    mov esi, cr0_text
    mov eax, [entry_cr0]
    call print_labelled_hex32
    call print_newline

    ; Each segment register: its selector, then the descriptor it names.
    mov ebx, segment_names
    mov edi, entry_cs
.next_segment:
    mov esi, descriptor_text
    call print
    mov esi, ebx
    call print
    mov al, '='
    call print_char
    movzx eax, word [edi]
    call print_hex16
    mov al, '='
    call print_char
    movzx eax, word [edi]
    and eax, SELECTOR_INDEX_MASK
    add eax, [gdt_register + 2]         ; the GDT's linear base
    push eax
    mov eax, [eax + 4]                  ; the descriptor's high dword first
    call print_hex32
    pop eax
    mov eax, [eax]
    call print_hex32
    call print_newline
    add ebx, 3                          ; "cs", 0 and so on
    add edi, 2
    cmp edi, entry_ss + 2
    jne .next_segment

    mov esi, a20_text
    call print
    mov dword [A20_LOW_PROBE], 0x11111111
    mov dword [A20_HIGH_PROBE], 0x22222222
    mov esi, on_text
    cmp dword [A20_LOW_PROBE], 0x11111111
    je .a20_known
    mov esi, off_text
.a20_known:
    call print
    call print_newline

%ifdef MULTIBOOT1
    ; The information structure (3.3) and everything it points to.
    mov esi, information_text
    call print
    mov esi, [entry_ebx]
    mov ecx, MBI1_DUMPED_BYTES
    call print_bytes
    mov ebx, [entry_ebx]
    mov esi, cmdline_text
    call print
    mov esi, [ebx + MBI1_CMDLINE]
    call print_string_bytes
    mov esi, loader_name_text
    call print
    mov esi, [ebx + MBI1_BOOT_LOADER_NAME]
    call print_string_bytes
    mov esi, mmap_text
    call print
    mov esi, [ebx + MBI1_MMAP_ADDR]
    mov ecx, [ebx + MBI1_MMAP_LENGTH]
    call print_bytes
    mov esi, mods_text
    call print
    mov esi, [ebx + MBI1_MODS_ADDR]
    mov ecx, [ebx + MBI1_MODS_COUNT]
    shl ecx, 4                          ; 16 bytes per module
    call print_bytes
    mov edi, [ebx + MBI1_MODS_ADDR]
    mov edx, [ebx + MBI1_MODS_COUNT]
.next_module:
    test edx, edx
    jz .modules_done
    mov esi, module_text
    call print
    mov esi, [edi]                      ; mod_start
    mov ecx, [edi + 4]                  ; mod_end
    sub ecx, esi
    call print_bytes
    mov esi, module_string_text
    call print
    mov esi, [edi + 8]
    call print_string_bytes
    add edi, 16
    dec edx
    jmp .next_module
.modules_done:
    test dword [ebx], MBI1_HAS_ELF_SECTIONS
    jz .sections_done
    mov esi, section_headers_text
    call print
    mov esi, [ebx + MBI1_SHDR_ADDR]
    mov eax, [ebx + MBI1_SHDR_NUM]
    mul dword [ebx + MBI1_SHDR_SIZE]
    mov ecx, eax
    call print_bytes
    mov esi, [ebx + MBI1_SHDR_ADDR]
    mov ecx, [ebx + MBI1_SHDR_NUM]
    mov edx, [ebx + MBI1_SHDR_SIZE]
    call print_sections
.sections_done:
%else
    ; The information structure, byte by byte: its first dword is its size.
    mov esi, information_text
    call print
    mov esi, [entry_ebx]
    mov ecx, [esi]
    call print_bytes

    ; Each module tag (3.6.6): u32 type 3, u32 size, mod_start, mod_end.
    mov ebx, [entry_ebx]
    add ebx, 8                          ; past total_size and reserved
.next_tag:
    mov eax, [ebx]
    test eax, eax
    jz .tags_done                       ; the end tag
    cmp eax, INFO_TAG_MODULE
    jne .not_module
    mov esi, module_text
    call print
    mov esi, [ebx + 8]                  ; mod_start
    mov ecx, [ebx + 12]                 ; mod_end
    sub ecx, esi
    call print_bytes
    jmp .tag_along
.not_module:
    cmp eax, INFO_TAG_ELF_SECTIONS
    jne .tag_along
    lea esi, [ebx + INFO_SECTIONS_TABLE]
    mov ecx, [ebx + INFO_SECTIONS_NUM]
    mov edx, [ebx + INFO_SECTIONS_ENTSIZE]
    call print_sections
.tag_along:
    mov eax, [ebx + 4]                  ; tags start 8-byte aligned
    add eax, 7
    and eax, ~7
    add ebx, eax
    jmp .next_tag
.tags_done:
%endif

    mov esi, done_text
    call print
    call print_newline
    mov al, EXIT_SUCCESS
    out DEBUG_EXIT_PORT, al
.halt:
    hlt
    jmp .halt

; print_sections: for each of the ECX section headers of EDX bytes at ESI,
; "probe: section" and the bytes of the section as its sh_addr and sh_size
; give them (none for SHT_NOBITS, which has no bytes from the file).
print_sections:
    jecxz .done
    push ecx
    push esi
    mov edi, esi
    mov esi, section_text
    call print
    xor ecx, ecx
    cmp dword [edi + SH_TYPE], SHT_NOBITS
    je .print
    mov esi, [edi + ELF32_SH_ADDR]
    mov ecx, [edi + ELF32_SH_SIZE]
    cmp edx, ELF64_SECTION_HEADER_SIZE
    jne .print
    mov esi, [edi + ELF64_SH_ADDR]
    mov ecx, [edi + ELF64_SH_SIZE]
.print:
    call print_bytes
    pop esi
    pop ecx
    add esi, edx
    loop print_sections
.done:
    ret

; print_bytes: ECX bytes from ESI, each as " XX", then a new line.
print_bytes:
    jecxz .done
.next:
    mov al, ' '
    call print_char
    lodsb
    call print_hex8
    loop .next
.done:
    jmp print_newline

; print_string_bytes: the bytes of the string at ESI, its NUL included.
print_string_bytes:
    xor ecx, ecx
.measure:
    inc ecx
    cmp byte [esi + ecx - 1], 0
    jne .measure
    jmp print_bytes

; print_labelled_hex32: the text at ESI, then EAX in hex.
print_labelled_hex32:
    call print
    jmp print_hex32

print_hex32:
    push eax
    shr eax, 16
    call print_hex16
    pop eax
print_hex16:
    push eax
    shr eax, 8
    call print_hex8
    pop eax
print_hex8:
    push eax
    shr al, 4
    call print_hex_digit
    pop eax
print_hex_digit:
    push eax
    and al, 0x0F
    add al, '0'
    cmp al, '9'
    jbe .digit
    add al, 'a' - '9' - 1
.digit:
    call print_char
    pop eax
    ret

print_newline:
    mov al, 13
    call print_char
    mov al, 10
print_char:
    push edx
    push eax
    mov dx, COM1_LINE_STATUS
.wait:
    in al, dx
    test al, TRANSMIT_EMPTY
    jz .wait
    pop eax
    mov dx, COM1
    out dx, al
    pop edx
    ret

; print: the NUL-terminated string at ESI.
print:
    push esi
    push eax
.next:
    lodsb
    test al, al
    jz .done
    call print_char
    jmp .next
.done:
    pop eax
    pop esi
    ret

eax_text:           db "probe: eax=", 0
ebx_text:           db " ebx=", 0
eflags_text:        db " eflags=", 0
cr0_text:           db " cr0=", 0
descriptor_text:    db "probe: segment ", 0
segment_names:      db "cs", 0, "ds", 0, "es", 0, "fs", 0, "gs", 0, "ss", 0
a20_text:           db "probe: a20 ", 0
on_text:            db "on", 0
off_text:           db "off", 0
information_text:   db "probe: information", 0
module_text:        db "probe: module", 0
cmdline_text:       db "probe: cmdline", 0
loader_name_text:   db "probe: loader name", 0
mmap_text:          db "probe: mmap", 0
mods_text:          db "probe: mods", 0
module_string_text: db "probe: module string", 0
section_headers_text: db "probe: section headers", 0
section_text:       db "probe: section", 0
done_text:          db "probe: done", 0

section .bss align=16
entry_eax:      resd 1
entry_ebx:      resd 1
entry_eflags:   resd 1
entry_cr0:      resd 1
entry_cs:       resw 1                  ; the six selectors in this order
entry_ds:       resw 1
entry_es:       resw 1
entry_fs:       resw 1
entry_gs:       resw 1
entry_ss:       resw 1
gdt_register:   resb 6
alignb 16
stack:          resb 4096
stack_top:
bss_end:
