; foreign.asm - a kernel that is not ours, to show that the image builder and
; the loader take any ELF64 kernel that follows the boot protocol, not just
; the one in kernel/.
;
; It shares no code or headers with kernel/ or bootloader/: the few boot info
; offsets it reads are written out below from the protocol. Everything it
; checks is about what the loader did before jumping here:
;
;   entry      we run at the address we were linked for, in long mode,
;              interrupts off, on a 16-byte aligned stack
;   boot info  RDI points at a block with the magic "BOOT", and the block
;              records our entry point, our first and our last byte
;   data       a 72 KiB pseudo-random pattern (larger than one loader read
;              chunk) arrived intact: its checksum matches the one computed
;              at assembly time and stored in .rodata
;   bss        all 2 MiB after the data are zero, though nothing here ever
;              wrote them: only the loader can have zeroed them. The next
;              bytes in the file are the guard segment's (non-zero), so a
;              loader that copied past p_filesz would leave them here.
;   guard      the segment that starts right where the BSS ends still holds
;              its bytes: a loader that zeroed past p_memsz would clear them
;
; Each check prints one line on COM1, "foreign kernel: <check> ok" or
; "... FAILED: <why>"; then we tell QEMU's isa-debug-exit device how it went
; and halt. tests/test_foreign_kernel.py builds, boots and judges it.
;
; Build: nasm -f elf64 foreign.asm && ld -T foreign.ld (see the test for
; the exact flags). -DCORRUPT_EXPECTED stores a wrong expected checksum, to
; show that the data check can fail.

bits 64
default rel

; ---- Hardware ---------------------------------------------------------------

COM1                    equ 0x3F8       ; I/O base of the first 16550 UART
UART_DATA               equ 0           ; transmit holding register (DLAB=0)
UART_INTERRUPT_ENABLE   equ 1           ; (DLAB=0); divisor high byte when DLAB=1
UART_DIVISOR_LOW        equ 0           ; (DLAB=1)
UART_DIVISOR_HIGH       equ 1           ; (DLAB=1)
UART_FIFO_CONTROL       equ 2
UART_LINE_CONTROL       equ 3
UART_MODEM_CONTROL      equ 4
UART_LINE_STATUS        equ 5
  LCR_8N1               equ 0x03        ; 8 data bits, no parity, 1 stop bit
  LCR_DLAB              equ 0x80        ; divisor latch access
  FCR_ENABLE_AND_CLEAR  equ 0x07        ; FIFOs on, both emptied
  MCR_DTR_RTS           equ 0x03
  LSR_THR_EMPTY         equ 0x20        ; bit 5: we may write the next byte
DIVISOR_115200          equ 1           ; 115200 baud from the 1.8432 MHz clock / 16

DEBUG_EXIT_PORT         equ 0xF4        ; QEMU isa-debug-exit: exit status (value << 1) | 1
EXIT_VALUE_SUCCESS      equ 0x10        ; QEMU exits with 33
EXIT_VALUE_FAILURE      equ 0x11        ; QEMU exits with 35

RFLAGS_IF               equ 1 << 9      ; interrupt enable flag
MSR_EFER                equ 0xC0000080
EFER_LMA                equ 1 << 10     ; long mode active
STACK_ALIGNMENT         equ 16          ; the protocol's entry RSP (0x80000) is 16-byte aligned

; ---- Boot protocol ------------------------------------------------------------
; The parts of the boot info block this kernel reads, as the protocol lays
; them out (bootloader/boot_info.inc, kernel/boot_info.h); a foreign kernel
; would copy them from the documentation just like this.

BOOT_INFO_MAGIC         equ 0x544F4F42  ; "BOOT" as a little-endian dword
BI_MAGIC                equ 0           ; dword
BI_KERNEL_ENTRY         equ 16          ; qword: ELF e_entry
BI_KERNEL_START         equ 24          ; qword: lowest PT_LOAD address
BI_KERNEL_END           equ 32          ; qword: highest p_paddr + p_memsz, exclusive
BI_STACK_BOTTOM         equ 88          ; qword: the stack RSP points into at entry
BI_STACK_TOP            equ 96          ; qword
BI_READ_BYTES           equ BI_STACK_TOP + 8    ; we read nothing beyond this
IDENTITY_MAP_END        equ 0x100000000 ; the loader identity-maps the first 4 GiB

; ---- What the loader must have placed -----------------------------------------

; The data pattern: dwords from a linear congruential generator (the
; constants of Numerical Recipes' "quick and dirty" generator). Every dword
; differs from its neighbours, so a segment copied from the wrong file
; offset, or with a chunk missing, changes the checksum.
DATA_PATTERN_BYTES      equ 72 * 1024   ; more than the loader's 63.5 KiB read chunk
DATA_PATTERN_DWORDS     equ DATA_PATTERN_BYTES / 4
PATTERN_SEED            equ 0x464F5245  ; "FORE"
LCG_MULTIPLIER          equ 1664525
LCG_INCREMENT           equ 1013904223
DWORD_MASK              equ 0xFFFFFFFF

BSS_BYTES               equ 2 * 1024 * 1024

; The guard segment's contents: no zero byte anywhere, so clearing even one
; of its bytes is seen.
GUARD_QWORD_0           equ 'GUARD!!!'    ; NASM reads these as little-endian qwords
GUARD_QWORD_1           equ 'SEGMENT.'

; ==== .data: the pattern (written first: .rodata needs its checksum) ==========
;
; The checksum is Fletcher-like over little-endian dwords: a += w, b += a,
; both modulo 2^32. b depends on each dword's position, a plain sum would not.

section .data align=16
data_pattern:
%assign pattern_value PATTERN_SEED
%assign sum_a 0
%assign sum_b 0
%rep DATA_PATTERN_DWORDS
    dd pattern_value
    %assign sum_a (sum_a + pattern_value) & DWORD_MASK
    %assign sum_b (sum_b + sum_a) & DWORD_MASK
    %assign pattern_value (pattern_value * LCG_MULTIPLIER + LCG_INCREMENT) & DWORD_MASK
%endrep
data_pattern_end:

%ifdef CORRUPT_EXPECTED
    %assign sum_a sum_a ^ 1             ; a wrong expectation: the data check must fail
%endif

; ==== .bss: never written by this kernel =====================================

section .bss align=16
bss_start:
    resb BSS_BYTES
bss_end:

; ==== .guard: the segment right after the BSS, in memory and in the file =====

section .guard progbits alloc noexec nowrite align=8
guard_start:
    dq GUARD_QWORD_0, GUARD_QWORD_1

; ==== .rodata ===================================================================

section .rodata align=8
expected_checksum:
    dd sum_a, sum_b                     ; read as one qword: b in the high half

prefix_message:         db "foreign kernel: ", 0
ok_message:             db " ok", 0
failed_message:         db " FAILED: ", 0
newline:                db 13, 10, 0

entry_name:             db "entry", 0
wrong_address_reason:   db "running at a different address than linked for", 0
interrupts_on_reason:   db "interrupts are enabled", 0
not_long_mode_reason:   db "EFER.LMA is clear", 0
stack_misaligned_reason: db "RSP is not 16-byte aligned", 0

magic_name:             db "boot info magic", 0
rdi_unmapped_reason:    db "RDI is 0 or beyond the identity-mapped 4 GiB", 0
bad_magic_reason:       db "the first dword is not 0x544F4F42", 0

layout_name:            db "boot info layout", 0
no_boot_info_reason:    db "no valid boot info block", 0
entry_mismatch_reason:  db "kernel_entry is not our entry point", 0
start_mismatch_reason:  db "kernel_start is not our first byte", 0
end_mismatch_reason:    db "kernel_end is not past our last byte", 0
stack_outside_reason:   db "RSP at entry is not inside [stack_bottom, stack_top]", 0
layout_detail_kernel:   db " (kernel 0x", 0
layout_detail_to:       db "-0x", 0
layout_detail_entry:    db ", entry 0x", 0
layout_detail_end:      db ")", 0

data_name:              db "data", 0
checksum_is:            db "checksum 0x", 0
checksum_expected:      db ", expected 0x", 0

bss_name:               db "bss", 0
bss_detail_start:       db " (", 0
bss_detail_end:         db " bytes zero)", 0
bss_nonzero_reason:     db "non-zero byte at 0x", 0

guard_name:             db "guard", 0
guard_reason:           db "the segment after the BSS was overwritten", 0

all_passed_message:     db "foreign kernel: all checks passed", 13, 10, 0
some_failed_message:    db "foreign kernel: some checks FAILED", 13, 10, 0

; ==== .text ======================================================================
;
; Register use throughout: R12 = RDI at entry (the boot info block),
; R13 = RSP at entry, R14 = RFLAGS at entry, R15 = number of failed checks.
; The helpers come first so that the entry point sits in the middle of
; .text: the loader must jump to e_entry, not to the segment's first byte.

section .text

; serial_init: COM1 at 115200 baud, 8N1, FIFOs on, no interrupts. The
; loader set the port up already; a kernel of its own does not rely on that.
serial_init:
    mov dx, COM1 + UART_INTERRUPT_ENABLE
    xor al, al
    out dx, al
    mov dx, COM1 + UART_LINE_CONTROL
    mov al, LCR_DLAB
    out dx, al
    mov dx, COM1 + UART_DIVISOR_LOW
    mov al, DIVISOR_115200
    out dx, al
    mov dx, COM1 + UART_DIVISOR_HIGH
    xor al, al
    out dx, al
    mov dx, COM1 + UART_LINE_CONTROL
    mov al, LCR_8N1
    out dx, al
    mov dx, COM1 + UART_FIFO_CONTROL
    mov al, FCR_ENABLE_AND_CLEAR
    out dx, al
    mov dx, COM1 + UART_MODEM_CONTROL
    mov al, MCR_DTR_RTS
    out dx, al
    ret

; serial_putc: AL = byte. Waits until the transmitter can take it.
serial_putc:
    push rdx
    push rax
    mov dx, COM1 + UART_LINE_STATUS
.wait:
    in al, dx
    test al, LSR_THR_EMPTY
    jz .wait
    pop rax
    mov dx, COM1 + UART_DATA
    out dx, al
    pop rdx
    ret

; print: RSI = NUL-terminated string.
print:
    push rsi
    push rax
.next:
    lodsb
    test al, al
    jz .done
    call serial_putc
    jmp .next
.done:
    pop rax
    pop rsi
    ret

; print_hex64: RAX, as 16 hex digits.
HEX_DIGITS              equ 16
print_hex64:
    push rax
    push rcx
    push rdx
    mov rdx, rax
    mov ecx, HEX_DIGITS
.digit:
    rol rdx, 4                          ; the top nibble comes round to the bottom
    mov al, dl
    and al, 0x0F
    add al, '0'
    cmp al, '9'
    jbe .print
    add al, 'A' - '0' - 10
.print:
    call serial_putc
    dec ecx
    jnz .digit
    pop rdx
    pop rcx
    pop rax
    ret

; print_decimal: RAX, unsigned, without leading zeros.
DECIMAL_DIGITS_MAX      equ 20          ; 2^64 - 1 has 20 digits
print_decimal:
    push rax
    push rcx
    push rdx
    push rbx
    sub rsp, DECIMAL_DIGITS_MAX
    mov rbx, 10
    xor ecx, ecx                        ; digits stored
.divide:
    xor edx, edx
    div rbx
    add dl, '0'
    mov [rsp + rcx], dl                 ; least significant digit first
    inc ecx
    test rax, rax
    jnz .divide
.print:
    dec ecx
    mov al, [rsp + rcx]
    call serial_putc
    test ecx, ecx
    jnz .print
    add rsp, DECIMAL_DIGITS_MAX
    pop rbx
    pop rdx
    pop rcx
    pop rax
    ret

; report_start: RSI = check name. Prints "foreign kernel: <name>".
report_start:
    push rsi
    lea rsi, [prefix_message]
    call print
    pop rsi
    call print
    ret

; report_ok: RSI = check name. A whole "... ok" line.
report_ok:
    call report_start
    lea rsi, [ok_message]
    call print
    lea rsi, [newline]
    jmp print

; report_failed: RSI = check name, RDX = reason. A whole "... FAILED: why"
; line; counts the failure.
report_failed:
    call report_failed_start
    lea rsi, [newline]
    jmp print

; report_failed_start: the same without ending the line, for details.
report_failed_start:
    inc r15
    call report_start
    lea rsi, [failed_message]
    call print
    mov rsi, rdx
    jmp print

; ---- The entry point ------------------------------------------------------------

global foreign_entry
foreign_entry:
    mov r12, rdi                        ; keep the machine state as the loader left it
    mov r13, rsp
    pushfq                              ; the loader's stack is ours to use; our BSS
    pop r14                             ; is not written before it has been checked
    xor r15d, r15d
    cld                                 ; the string instructions below count upwards

    call serial_init
    call check_entry
    call check_boot_info
    call check_data
    call check_bss
    call check_guard

    test r15, r15
    jnz .failed
    lea rsi, [all_passed_message]
    call print
    mov al, EXIT_VALUE_SUCCESS
    jmp exit_qemu
.failed:
    lea rsi, [some_failed_message]
    call print
    mov al, EXIT_VALUE_FAILURE
    jmp exit_qemu

; ---- The checks, after the entry point ------------------------------------------

; check_entry: we run where we were linked, in long mode, with interrupts
; off and an aligned stack (the protocol's machine state at entry).
check_entry:
    lea rdx, [wrong_address_reason]
    lea rax, [foreign_entry]            ; where we are (RIP-relative)...
    mov rcx, foreign_entry              ; ...and where the linker put us (absolute)
    cmp rax, rcx
    jne .failed
    lea rdx, [interrupts_on_reason]
    test r14, RFLAGS_IF
    jnz .failed
    lea rdx, [not_long_mode_reason]
    mov ecx, MSR_EFER
    rdmsr
    test eax, EFER_LMA
    jz .failed
    lea rdx, [stack_misaligned_reason]
    test r13, STACK_ALIGNMENT - 1
    jnz .failed
    lea rsi, [entry_name]
    jmp report_ok
.failed:
    lea rsi, [entry_name]
    jmp report_failed

; check_boot_info: RDI pointed at the boot info block, and the block says
; where the loader put us.
check_boot_info:
    lea rsi, [magic_name]
    lea rdx, [rdi_unmapped_reason]
    test r12, r12
    jz .magic_failed
    mov rax, IDENTITY_MAP_END - BI_READ_BYTES
    cmp r12, rax                        ; reading past the map would fault
    ja .magic_failed
    lea rdx, [bad_magic_reason]
    cmp dword [r12 + BI_MAGIC], BOOT_INFO_MAGIC
    jne .magic_failed
    call report_ok

    lea rdx, [entry_mismatch_reason]
    mov rax, foreign_entry
    cmp [r12 + BI_KERNEL_ENTRY], rax
    jne .layout_failed
    lea rdx, [start_mismatch_reason]
    mov rax, __foreign_start
    cmp [r12 + BI_KERNEL_START], rax
    jne .layout_failed
    lea rdx, [end_mismatch_reason]
    mov rax, __foreign_end
    cmp [r12 + BI_KERNEL_END], rax
    jne .layout_failed
    lea rdx, [stack_outside_reason]
    cmp r13, [r12 + BI_STACK_BOTTOM]
    jb .layout_failed
    cmp r13, [r12 + BI_STACK_TOP]
    ja .layout_failed

    lea rsi, [layout_name]              ; "... ok (kernel 0xSTART-0xEND, entry 0xENTRY)"
    call report_start
    lea rsi, [ok_message]
    call print
    lea rsi, [layout_detail_kernel]
    call print
    mov rax, [r12 + BI_KERNEL_START]
    call print_hex64
    lea rsi, [layout_detail_to]
    call print
    mov rax, [r12 + BI_KERNEL_END]
    call print_hex64
    lea rsi, [layout_detail_entry]
    call print
    mov rax, [r12 + BI_KERNEL_ENTRY]
    call print_hex64
    lea rsi, [layout_detail_end]
    call print
    lea rsi, [newline]
    jmp print

.magic_failed:
    call report_failed
    lea rdx, [no_boot_info_reason]      ; without the block there is no layout to check
.layout_failed:
    lea rsi, [layout_name]
    jmp report_failed

; check_data: the pattern's checksum against the one the assembler computed.
check_data:
    lea rsi, [data_pattern]
    mov ecx, DATA_PATTERN_DWORDS
    xor eax, eax                        ; a
    xor edx, edx                        ; b
.add:
    add eax, [rsi]
    add edx, eax
    add rsi, 4
    dec ecx
    jnz .add
    shl rdx, 32
    or rax, rdx                         ; b:a, laid out like expected_checksum
    cmp rax, [expected_checksum]
    jne .failed
    lea rsi, [data_name]
    jmp report_ok
.failed:
    mov rbx, rax
    lea rsi, [data_name]
    lea rdx, [checksum_is]
    call report_failed_start
    mov rax, rbx
    call print_hex64
    lea rsi, [checksum_expected]
    call print
    mov rax, [expected_checksum]
    call print_hex64
    lea rsi, [newline]
    jmp print

; check_bss: every byte from bss_start to bss_end is zero.
check_bss:
    lea rdi, [bss_start]
    mov rcx, bss_end - bss_start
    xor eax, eax
    repe scasb                          ; stops after the first non-zero byte
    jne .failed
    lea rsi, [bss_name]
    call report_start
    lea rsi, [ok_message]
    call print
    lea rsi, [bss_detail_start]
    call print
    mov rax, bss_end - bss_start
    call print_decimal
    lea rsi, [bss_detail_end]
    call print
    lea rsi, [newline]
    jmp print
.failed:
    lea rsi, [bss_name]
    lea rdx, [bss_nonzero_reason]
    call report_failed_start
    lea rax, [rdi - 1]
    call print_hex64
    lea rsi, [newline]
    jmp print

; check_guard: the segment after the BSS holds what the file says.
check_guard:
    lea rdx, [guard_reason]
    mov rax, GUARD_QWORD_0
    cmp [guard_start], rax
    jne .failed
    mov rax, GUARD_QWORD_1
    cmp [guard_start + 8], rax
    jne .failed
    lea rsi, [guard_name]
    jmp report_ok
.failed:
    lea rsi, [guard_name]
    jmp report_failed

; exit_qemu: AL = EXIT_VALUE_*. Without the isa-debug-exit device the write
; does nothing and we simply halt.
exit_qemu:
    out DEBUG_EXIT_PORT, al
.halt:
    cli
    hlt                                 ; an NMI would wake us: halt again
    jmp .halt

; From foreign.ld: our first byte and the end of our last segment.
extern __foreign_start, __foreign_end
