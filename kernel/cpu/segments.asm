; segments.asm - switch to a new GDT and reload every segment register.
;
; LGDT only changes where the CPU looks up descriptors; the segment
; registers keep the descriptors they loaded earlier (the hidden part)
; until they are loaded again (Intel SDM Vol. 3A, 3.4.3). MOV cannot load
; CS, so CS is reloaded with a far return: RETFQ pops RIP, then CS.

bits 64
section .text

global gdt_load

; void gdt_load(const struct descriptor_table_register *gdtr,  RDI
;               uint64_t code_selector,                          RSI
;               uint64_t data_selector)                          RDX
gdt_load:
    lgdt [rdi]

    mov ds, dx
    mov es, dx
    mov ss, dx
    ; FS and GS: their bases in 64-bit mode come from MSRs; a selector load
    ; sets the base to the descriptor's, 0, which is what we want for now.
    mov fs, dx
    mov gs, dx

    ; Build the far return frame: RETFQ pops RIP first, then CS.
    pop rax                     ; our return address
    push rsi                    ; new CS
    push rax                    ; where to continue
    retfq                       ; CS:RIP = code_selector:return address

section .note.GNU-stack noalloc noexec nowrite progbits
