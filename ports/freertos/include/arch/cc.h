/*
 * Compiler and C library glue for lwIP on FreeRTOS (gcc/clang, newlib or picolibc).
 */
#ifndef LWIP_WS_FREERTOS_ARCH_CC_H
#define LWIP_WS_FREERTOS_ARCH_CC_H

#include <stdint.h>
#include <stdio.h>

#ifndef BYTE_ORDER
#define BYTE_ORDER LITTLE_ENDIAN
#endif

/* sockets are off: lwIP must not define struct timeval itself when the C library has it. */
#define LWIP_TIMEVAL_PRIVATE 0

/* The port's random source behind LWIP_RAND() (hardware RNG). */
uint32_t sys_port_random(void);
/* Reports a failed lwIP assertion and stops (configASSERT, reset, ...). */
void sys_port_assert(const char *msg, const char *file, int line);

#define LWIP_PLATFORM_DIAG(x)   do { printf x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) sys_port_assert((x), __FILE__, __LINE__)

#endif /* LWIP_WS_FREERTOS_ARCH_CC_H */
