/*
 * Compiler and C library glue for lwIP on the bare-metal Cortex-M4 firmware
 * (arm-none-eabi-gcc, newlib-nano).
 */
#ifndef LWIP_WS_MPS2_ARCH_CC_H
#define LWIP_WS_MPS2_ARCH_CC_H

#include <stdint.h>
#include <stdio.h>

#ifndef BYTE_ORDER /* newlib's <machine/endian.h> may define it */
#define BYTE_ORDER LITTLE_ENDIAN
#endif

/* newlib has no struct timeval clash for us (no sockets); errno is not needed. */
#define LWIP_TIMEVAL_PRIVATE 0

/* The port's pseudo-random source behind LWIP_RAND() (see lwipopts.h). */
uint32_t mps2_rand(void);
/* Prints a message and ends the QEMU run with a non-zero exit code. */
void mps2_fatal(const char *what, const char *file, int line) __attribute__((noreturn));

#define LWIP_PLATFORM_DIAG(x) do { printf x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) mps2_fatal((x), __FILE__, __LINE__)

#endif /* LWIP_WS_MPS2_ARCH_CC_H */
