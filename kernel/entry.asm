; entry.asm - the first kernel instructions the loader jumps to.
;
; The loader guarantees (docs/boot-protocol.md): 64-bit long mode, the first
; 4 GiB identity-mapped, interrupts off, direction flag clear, RSP on a
; 16-byte aligned stack below 1 MiB, and RDI = the physical address of
; struct boot_info.
;
; That stack belongs to the loader's memory, which the kernel may later want
; to reuse, so we move to a stack of our own inside the kernel image before
; running any C. RDI is left untouched: in the System V AMD64 calling
; convention it carries the first argument, so kernel_main receives the
; boot_info pointer without any copying.

bits 64
default rel

%define KERNEL_STACK_SIZE (16 * 1024)   ; 16 KiB is plenty for this kernel
%define PAGE_SIZE 4096                  ; the x86 small page

; The stack lives in .bss: it costs nothing in the file, and the loader
; zeroes it along with the rest of .bss. It gets pages of its own, with one
; more page below it: the guard page. mm/kernel_stack.c unmaps that page at
; start-up, so a stack overflow page-faults at once instead of silently
; overwriting the variables below the stack (the #PF then cannot be
; delivered on the broken stack and becomes a double fault, which runs on
; its own IST stack: cpu/gdt.c).
section .bss nobits alloc noexec write align=PAGE_SIZE
alignb PAGE_SIZE
global kernel_boot_stack_guard, kernel_boot_stack_bottom, kernel_boot_stack_top
kernel_boot_stack_guard:
    resb PAGE_SIZE
kernel_boot_stack_bottom:
    resb KERNEL_STACK_SIZE
kernel_boot_stack_top:                  ; stacks grow down: RSP starts here

; .text.entry is placed first in .text by linker.ld.
section .text.entry progbits alloc exec nowrite align=16

; Typed as a function: __kernel_start (linker.ld) has the same address,
; and objdump and GDB name an address by its function symbol when there is
; one, so their disassembly then says kernel_entry.
global kernel_entry:function
extern kernel_main

kernel_entry:
    ; The System V ABI wants RSP 16-byte aligned at every CALL instruction
    ; (the callee then sees RSP = 16n + 8 after the return address is pushed).
    ; kernel_boot_stack_top is 16-byte aligned, so loading it is enough.
    lea rsp, [kernel_boot_stack_top]

    ; A zero frame pointer ends the chain of saved RBPs, so a debugger's
    ; backtrace stops cleanly at kernel_main instead of wandering into the
    ; loader's stack.
    xor ebp, ebp

    call kernel_main                    ; RDI = struct boot_info *, unchanged

    ; kernel_main should not return; if it does, stop the CPU for good.
    ; HLT waits for the next interrupt; with IF clear only an NMI or SMI
    ; can wake it, hence the loop.
.halt:
    cli
    hlt
    jmp .halt

; Tell the linker this object does not need an executable stack (otherwise
; GNU ld 2.39+ warns). linker.ld discards the section from the output.
section .note.GNU-stack noalloc noexec nowrite progbits
