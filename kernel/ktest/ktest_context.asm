; ktest_context.asm - leave a test from anywhere and continue in the runner.
;
; ktest_save saves the registers the System V AMD64 ABI says a function
; must preserve (RBX, RBP, R12-R15), the stack pointer and the return
; address, and returns 0. ktest_resume puts them back and makes that same
; ktest_save call return 1 — from a failed assertion deep in a test, or
; from an exception handler after an expected fault. This is what the C
; library calls setjmp and longjmp.

bits 64
section .text

; struct layout (8 bytes each): rbx, rbp, r12, r13, r14, r15, rsp, rip
CONTEXT_RBX equ 0
CONTEXT_RBP equ 8
CONTEXT_R12 equ 16
CONTEXT_R13 equ 24
CONTEXT_R14 equ 32
CONTEXT_R15 equ 40
CONTEXT_RSP equ 48
CONTEXT_RIP equ 56

global ktest_save
global ktest_resume

; int ktest_save(struct ktest_context *context)   (RDI = context)
ktest_save:
    mov [rdi + CONTEXT_RBX], rbx
    mov [rdi + CONTEXT_RBP], rbp
    mov [rdi + CONTEXT_R12], r12
    mov [rdi + CONTEXT_R13], r13
    mov [rdi + CONTEXT_R14], r14
    mov [rdi + CONTEXT_R15], r15
    lea rax, [rsp + 8]                  ; the caller's RSP once we have returned
    mov [rdi + CONTEXT_RSP], rax
    mov rax, [rsp]                      ; our return address
    mov [rdi + CONTEXT_RIP], rax
    xor eax, eax
    ret

; _Noreturn void ktest_resume(const struct ktest_context *context)
ktest_resume:
    mov rbx, [rdi + CONTEXT_RBX]
    mov rbp, [rdi + CONTEXT_RBP]
    mov r12, [rdi + CONTEXT_R12]
    mov r13, [rdi + CONTEXT_R13]
    mov r14, [rdi + CONTEXT_R14]
    mov r15, [rdi + CONTEXT_R15]
    mov rsp, [rdi + CONTEXT_RSP]
    mov eax, 1
    jmp [rdi + CONTEXT_RIP]

; No executable stack (the linker asks for this note in every object).
section .note.GNU-stack noalloc noexec nowrite progbits
