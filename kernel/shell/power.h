/*
 * power.h - restarting and switching off the machine.
 */
#ifndef KERNEL_SHELL_POWER_H
#define KERNEL_SHELL_POWER_H

/* Restart the machine. Does not return. */
_Noreturn void power_reboot(void);

/* Switch the machine off where we know how; returns (after saying so)
 * when no method worked. */
void power_off(void);

#endif
