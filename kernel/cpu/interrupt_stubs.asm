; interrupt_stubs.asm - the first instructions of every interrupt handler.
;
; The IDT (idt.c) points vector N at interrupt_stub_N. Each stub makes the
; stack look the same whatever the vector (struct interrupt_frame in
; interrupt_frame.h): CPU exceptions 8, 10-14, 17, 21, 29 and 30 push an
; error code (Intel SDM Vol. 3A, 6.15, "Error Code" of each exception), the
; others do not, so those stubs push a 0 in its place. Then the vector, then
; all general registers, and C takes over in interrupt_dispatch.

bits 64
section .text

extern interrupt_dispatch

; Vectors whose exceptions come with an error code from the CPU:
; #DF 8, #TS 10, #NP 11, #SS 12, #GP 13, #PF 14, #AC 17, #CP 21, #VC 29, #SX 30.
%macro STUB 1
interrupt_stub_%1:
%if %1 = 8 || (%1 >= 10 && %1 <= 14) || %1 = 17 || %1 = 21 || %1 = 29 || %1 = 30
    ; the CPU pushed the error code already
%else
    push 0                      ; no error code: keep the layout uniform
%endif
    push %1                     ; the vector number
    jmp interrupt_common
%endmacro

; 0-31: CPU exceptions; 32-47: the two 8259 PICs' IRQ 0-15 (pic.c).
%assign vector 0
%rep 48
    STUB vector
%assign vector vector + 1
%endrep

interrupt_common:
    push rax
    push rbx
    push rcx
    push rdx
    push rsi
    push rdi
    push rbp
    push r8
    push r9
    push r10
    push r11
    push r12
    push r13
    push r14
    push r15

    ; The CPU aligned RSP to 16 before its pushes; 5 + 2 + 15 = 22 words
    ; later it is still aligned, as the System V ABI wants at a CALL.
    mov rdi, rsp                ; struct interrupt_frame *
    cld                         ; the ABI expects DF = 0 in C code
    call interrupt_dispatch

    pop r15
    pop r14
    pop r13
    pop r12
    pop r11
    pop r10
    pop r9
    pop r8
    pop rbp
    pop rdi
    pop rsi
    pop rdx
    pop rcx
    pop rbx
    pop rax
    add rsp, 16                 ; drop the vector and the error code
    iretq                       ; pops RIP, CS, RFLAGS, RSP, SS

; The table idt.c reads: the address of every stub, by vector.
section .rodata
global interrupt_stub_table
align 8
interrupt_stub_table:
%assign vector 0
%rep 48
    dq interrupt_stub_ %+ vector
%assign vector vector + 1
%endrep

section .note.GNU-stack noalloc noexec nowrite progbits
