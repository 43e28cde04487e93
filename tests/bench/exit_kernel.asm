; exit_kernel.asm - a kernel that ends QEMU as soon as the loader enters it,
; for the boot benchmark (tests/bench/bench.py).
;
; With it, a boot's time is the firmware plus our loader and nothing else.
; The benchmark links it at 1 MiB for the small-kernel configuration and
; adds a 16 MiB data segment to it for the large one.
;
; With -DDUMP_BOOT_INFO it first sends the whole boot information block
; (RDI points at it; its length is its own `size` field) raw over COM1,
; framed so the benchmark can find it among the loader's messages:
;
;   "<<BOOT_INFO" (DUMP_BEGIN), the length as a little-endian dword, the
;   block's bytes, then "BOOT_INFO>>" (DUMP_END)
;
; The loader has already programmed COM1 (115200 8N1, FIFOs on;
; docs/boot-protocol.md, "Machine state at the kernel entry"), so we only
; wait for room in the transmitter before each byte.
;
; Build: nasm -f elf64 -I bootloader/ exit_kernel.asm, then ld at 0x100000
; (bench.py has the exact commands).

bits 64
default rel

%include "boot_info.inc"        ; boot_info.size, from bootloader/

DEBUG_EXIT_PORT     equ 0xF4    ; QEMU isa-debug-exit: QEMU exits with (value << 1) | 1
EXIT_VALUE_SUCCESS  equ 0x10    ; -> exit status 33

section .text

global entry
entry:
%ifdef DUMP_BOOT_INFO
    mov rbx, rdi                ; RDI = the boot information block (0x1000)
    lea rsi, [dump_begin]
    mov ecx, dump_begin_length
    call send_bytes
    movzx eax, word [rbx + boot_info.size]
    push rax                    ; the length, sent from the stack (the kernel has no data)
    mov rsi, rsp
    mov ecx, 4
    call send_bytes
    add rsp, 8
    mov rsi, rbx
    movzx ecx, word [rbx + boot_info.size]
    call send_bytes
    lea rsi, [dump_end]
    mov ecx, dump_end_length
    call send_bytes
%endif
    mov al, EXIT_VALUE_SUCCESS
    out DEBUG_EXIT_PORT, al
    ; Only without the isa-debug-exit device do we get here. Interrupts are
    ; off and there is no IDT, so HLT sleeps for good (bar an NMI).
.halt:
    hlt
    jmp .halt

%ifdef DUMP_BOOT_INFO
COM1                equ 0x3F8
UART_LINE_STATUS    equ 5
LSR_THR_EMPTY       equ 0x20    ; bit 5: the transmit holding register can take a byte

; send_bytes: RSI = bytes, ECX = count, to COM1. Uses the loader's stack
; (RSP = 0x80000 at entry), which is fine for one call deep.
send_bytes:
    jecxz .done
.next:
    mov dx, COM1 + UART_LINE_STATUS
.wait:
    in al, dx
    test al, LSR_THR_EMPTY
    jz .wait
    mov dx, COM1
    lodsb
    out dx, al
    loop .next
.done:
    ret

dump_begin:         db "<<BOOT_INFO"
dump_begin_length   equ $ - dump_begin
dump_end:           db "BOOT_INFO>>"
dump_end_length     equ $ - dump_end
%endif

; This object needs no executable stack (otherwise GNU ld 2.39+ warns).
section .note.GNU-stack noalloc noexec nowrite progbits
