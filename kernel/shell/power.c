/*
 * power.c - reboot and power off, the ways emulators and PCs understand.
 *
 * Reboot: pulse the CPU reset line through the 8042 keyboard controller
 * (command 0xFE to port 0x64), the oldest method every PC chipset keeps;
 * if that does nothing, a triple fault resets the CPU: load an empty IDT
 * and raise an exception.
 *
 * Power off: real ACPI needs the FADT's PM1a control block and the SLP_TYP
 * value from the DSDT's \_S5 object, which needs an AML interpreter. The
 * emulators we support take a fixed write instead: QEMU's PIIX4 and ICH9
 * power management blocks sit at I/O port 0x600, Bochs's at 0xB000, and
 * writing SLP_EN (bit 13) with SLP_TYP 0 to PM1a_CNT (block + 4) enters S5
 * there. We try those, and say so when the machine is still running.
 */
#include "shell/power.h"

#include <stdint.h>

#include "console.h"
#include "cpu/descriptor_table.h"
#include "cpu/halt.h"
#include "io.h"

#define KBC_STATUS_COMMAND 0x64
#define KBC_STATUS_INPUT_FULL 0x02 /* status bit 1: controller busy */
#define KBC_PULSE_RESET 0xFE       /* command: pulse output line 0 (CPU reset) */
#define KBC_WAIT_LOOPS 100000

#define PM1_CNT_SLP_EN (1u << 13) /* ACPI 6.x, 4.8.3.2.1: sleep enable */
#define QEMU_PM1A_CNT 0x604       /* PIIX4/ICH9 PM base 0x600 + 4 */
#define BOCHS_PM1A_CNT 0xB004     /* Bochs PM base 0xB000 + 4 */
#define POWER_OFF_SETTLE_LOOPS 1000000

_Noreturn void power_reboot(void)
{
    kprintf("reboot: resetting through the keyboard controller\n");
    for (int i = 0; i < KBC_WAIT_LOOPS; i++)
        if (!(inb(KBC_STATUS_COMMAND) & KBC_STATUS_INPUT_FULL))
            break;
    outb(KBC_STATUS_COMMAND, KBC_PULSE_RESET);
    for (volatile int i = 0; i < KBC_WAIT_LOOPS; i++)
        ;

    kprintf("reboot: the keyboard controller did not reset; forcing a triple fault\n");
    struct descriptor_table_register empty_idt = {0, 0};
    __asm__ volatile("cli; lidt %0; int3" : : "m"(empty_idt));
    halt_forever();
}

void power_off(void)
{
    static const uint16_t ports[] = {QEMU_PM1A_CNT, BOCHS_PM1A_CNT};
    kprintf("poweroff: trying the emulators' ACPI power-off ports\n");
    for (unsigned int i = 0; i < sizeof ports / sizeof ports[0]; i++) {
        outw(ports[i], PM1_CNT_SLP_EN);
        for (volatile int wait = 0; wait < POWER_OFF_SETTLE_LOOPS; wait++)
            ;
    }
    kprintf("poweroff: this machine is still on: powering off real hardware needs ACPI "
            "(the FADT and the \\_S5 object), which this kernel does not parse. "
            "It is safe to switch it off now.\n");
}
