; higher_half.asm - a higher-half kernel in the boot protocol: linked at
; 0xFFFFFFFF80100000 and loaded at 0x100000 (higher_half.ld gives each
; section a load address with AT()). It shares no code with kernel/ or the
; loader, and checks what the loader did before jumping here:
;
;   virtual      we run at the virtual address we were linked for, in the
;                top 2 GiB, and the boot info block names that entry point
;   boot info    RDI is a physical address below 4 GiB with the magic
;                "BOOT", and the block says we were loaded at 0x100000
;   identity     the identity map still holds: our data, read and written
;                at its physical address, is the same as at its virtual one
;   permissions  walking the page tables from CR3: our code is read-only
;                and executable, our read-only data read-only and (with
;                EFER.NXE) no-execute, our data writable and no-execute
;
; Each check prints "higher-half kernel: <check> ok" or "... FAILED" on
; COM1; then the exit status goes to QEMU's isa-debug-exit device.
; tests/test_higher_half_kernel.py builds, boots and judges it.
;
; Build: nasm -f elf64 higher_half.asm && ld -T higher_half.ld (see the
; test for the flags). -DEXPECT_WRITABLE_RODATA makes the permissions check
; expect the wrong thing, to show that it can fail.

bits 64
default rel                             ; RIP-relative: works at any address in +-2 GiB

COM1                    equ 0x3F8       ; the first 16550 UART, set up by the loader
UART_LINE_STATUS        equ 5
  LSR_THR_EMPTY         equ 0x20        ; bit 5: we may write the next byte
DEBUG_EXIT_PORT         equ 0xF4        ; QEMU isa-debug-exit: exit status (value << 1) | 1
EXIT_VALUE_SUCCESS      equ 0x10        ; QEMU exits with 33
EXIT_VALUE_FAILURE      equ 0x11        ; QEMU exits with 35

KERNEL_VIRTUAL_BASE     equ 0xFFFFFFFF80000000  ; p_vaddr - p_paddr, as in higher_half.ld
KERNEL_PHYSICAL_START   equ 0x100000    ; where .text is loaded (AT() in higher_half.ld)
IDENTITY_MAP_END        equ 0x100000000 ; the loader identity-maps at least the first 4 GiB

; The boot info block (docs/boot-protocol.md).
BOOT_INFO_MAGIC         equ 0x544F4F42  ; "BOOT" as a little-endian dword
BI_MAGIC                equ 0           ; dword
BI_KERNEL_ENTRY         equ 16          ; qword: ELF e_entry
BI_KERNEL_START         equ 24          ; qword: lowest PT_LOAD physical address

; 4-level paging (Intel SDM Vol. 3A, 4.5): 9 index bits per level, from
; bit 39 (PML4) down to bit 12 (page table); entries are 8 bytes.
PML4_SHIFT              equ 39
PAGE_SHIFT              equ 12
LEVEL_BITS              equ 9
INDEX_MASK              equ (1 << LEVEL_BITS) - 1
ENTRY_BYTES             equ 8
ENTRY_ADDRESS_MASK      equ 0x000FFFFFFFFFF000  ; bits 51-12: the next table or the frame
PAGE_PRESENT            equ 1 << 0
PAGE_WRITABLE           equ 1 << 1
PAGE_LARGE              equ 1 << 7      ; PS: this entry maps a 2 MiB / 1 GiB page itself
PAGE_NO_EXECUTE         equ 1 << 63
MSR_EFER                equ 0xC0000080
EFER_NXE                equ 1 << 11     ; bit 63 of an entry means no-execute only with this

IDENTITY_PROBE_VALUE    equ 0x1DE171713A9E4A11  ; any value the loader would not leave there

section .rodata align=8
prefix_message:         db "higher-half kernel: ", 0
ok_message:             db " ok", 13, 10, 0
failed_message:         db " FAILED", 13, 10, 0
virtual_name:           db "virtual", 0
boot_info_name:         db "boot info", 0
identity_name:          db "identity", 0
text_name:              db "permissions text", 0
rodata_name:            db "permissions rodata", 0
data_name:              db "permissions data", 0
all_passed_message:     db "higher-half kernel: all checks passed", 13, 10, 0
some_failed_message:    db "higher-half kernel: some checks FAILED", 13, 10, 0
rodata_probe:           dq 0

section .data align=8
identity_probe:         dq 0

section .text

; serial_putc: AL = byte, once the UART can take it.
serial_putc:
    push rdx
    push rax
    mov dx, COM1 + UART_LINE_STATUS
.wait:
    in al, dx
    test al, LSR_THR_EMPTY
    jz .wait
    pop rax
    mov dx, COM1
    out dx, al
    pop rdx
    ret

; print: RSI = NUL-terminated string.
print:
    lodsb
    test al, al
    jz .done
    call serial_putc
    jmp print
.done:
    ret

; report: RSI = check name, ZF set when the check passed. Prints the line;
; counts a failure in R15.
report:
    pushf
    push rsi
    lea rsi, [prefix_message]
    call print
    pop rsi
    call print
    lea rsi, [ok_message]
    popf
    jz .print
    inc r15
    lea rsi, [failed_message]
.print:
    jmp print

; page_table_entry: RAX = a virtual address; RAX = the 4 KiB page table
; entry that maps it, or 0 when a level is not present or maps a large page
; (the loader maps higher-half segments with 4 KiB pages only). The tables
; are read at their physical addresses, through the identity map.
page_table_entry:
    push rbx
    push rcx
    push rdx
    mov rbx, cr3
    mov ecx, PML4_SHIFT
.level:
    mov rdx, ENTRY_ADDRESS_MASK
    and rbx, rdx                        ; RBX = this level's table
    mov rdx, rax
    shr rdx, cl
    and edx, INDEX_MASK
    mov rbx, [rbx + rdx * ENTRY_BYTES]
    test bl, PAGE_PRESENT
    jz .none
    cmp ecx, PAGE_SHIFT
    je .found
    test bl, PAGE_LARGE
    jnz .none
    sub ecx, LEVEL_BITS
    jmp .level
.found:
    mov rax, rbx
    jmp .done
.none:
    xor eax, eax
.done:
    pop rdx
    pop rcx
    pop rbx
    ret

; check_page: RAX = a virtual address, RDX = the write and no-execute bits
; its entry must have, RSI = the check's name. Reports the check.
check_page:
    call page_table_entry
    test al, PAGE_PRESENT
    jz .not_mapped
    mov rcx, PAGE_WRITABLE | PAGE_NO_EXECUTE
    and rax, rcx
    cmp rax, rdx                        ; ZF set: the bits are as expected
    jmp report
.not_mapped:
    or al, 1                            ; ZF clear: failed
    jmp report

global higher_half_entry
higher_half_entry:
    mov r12, rdi                        ; the boot info block
    xor r15, r15                        ; failed checks

    ; virtual: where we run (RIP-relative) is where we were linked
    ; (an absolute address the linker filled in), in the top 2 GiB.
    lea rax, [higher_half_entry]
    mov rbx, higher_half_entry
    mov rcx, KERNEL_VIRTUAL_BASE
    cmp rax, rcx
    jb .virtual_done                    ; ZF clear: failed
    cmp rax, rbx
.virtual_done:
    lea rsi, [virtual_name]
    call report

    ; boot info: a physical pointer below 4 GiB, the magic, our virtual
    ; entry point and our physical start.
    mov rax, IDENTITY_MAP_END
    cmp r12, rax
    jae .boot_info_failed
    test r12, r12
    jz .boot_info_failed
    cmp dword [r12 + BI_MAGIC], BOOT_INFO_MAGIC
    jne .boot_info_done
    mov rax, higher_half_entry
    cmp [r12 + BI_KERNEL_ENTRY], rax
    jne .boot_info_done
    cmp qword [r12 + BI_KERNEL_START], KERNEL_PHYSICAL_START
    jmp .boot_info_done                 ; ZF set: all as expected
.boot_info_failed:
    or al, 1                            ; ZF clear: failed
.boot_info_done:
    lea rsi, [boot_info_name]
    call report

    ; identity: a value written at the virtual address of identity_probe
    ; is there at its physical address, and the other way round.
    mov rbx, identity_probe
    mov rcx, KERNEL_VIRTUAL_BASE
    sub rbx, rcx                        ; RBX = its physical address
    mov rax, IDENTITY_PROBE_VALUE
    mov [identity_probe], rax
    cmp [rbx], rax
    jne .identity_done
    not rax
    mov [rbx], rax
    cmp [identity_probe], rax
.identity_done:
    lea rsi, [identity_name]
    call report

    ; permissions, from the page table entries.
    xor r13, r13                        ; R13 = the no-execute bit, when in use
    mov ecx, MSR_EFER
    rdmsr
    test eax, EFER_NXE
    jz .nx_known
    mov r13, PAGE_NO_EXECUTE
.nx_known:
    mov rax, higher_half_entry
    xor edx, edx                        ; read-only, executable
    lea rsi, [text_name]
    call check_page
    mov rax, rodata_probe
    mov rdx, r13                        ; read-only, no-execute
%ifdef EXPECT_WRITABLE_RODATA
    or rdx, PAGE_WRITABLE
%endif
    lea rsi, [rodata_name]
    call check_page
    mov rax, identity_probe
    mov rdx, r13
    or rdx, PAGE_WRITABLE               ; writable, no-execute
    lea rsi, [data_name]
    call check_page

    lea rsi, [all_passed_message]
    mov al, EXIT_VALUE_SUCCESS
    test r15, r15
    jz .exit
    lea rsi, [some_failed_message]
    mov al, EXIT_VALUE_FAILURE
.exit:
    push rax
    call print
    pop rax
    out DEBUG_EXIT_PORT, al
.halt:
    hlt
    jmp .halt
