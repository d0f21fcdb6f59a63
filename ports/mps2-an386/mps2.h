/*
 * Board support for QEMU mps2-an386 (Cortex-M4): console, clock, exit.
 */
#ifndef LWIP_WS_MPS2_H
#define LWIP_WS_MPS2_H

#include <stdint.h>

/* Milliseconds since reset (SysTick, 1 ms). */
uint32_t mps2_millis(void);
/* A byte from the console UART, or -1 when none is waiting. */
int mps2_getc(void);
/* Ends the QEMU run with this exit code (semihosting SYS_EXIT_EXTENDED). */
void mps2_exit(int code) __attribute__((noreturn));
/* QEMU's command line for the program (semihosting SYS_GET_CMDLINE: the -kernel file name
 * and the -append text), NUL-terminated in buf; its length, or -1. */
int mps2_cmdline(char *buf, uint32_t len);
/* Sleeps until the next interrupt (at most 1 ms: SysTick). */
void mps2_idle(void);

/* The firmware's entry point, called by the reset handler (startup.s). */
int mps2_main(void);

#endif /* LWIP_WS_MPS2_H */
