/*
 * Compiler and C library glue for lwIP on Linux hosts (gcc or clang, glibc).
 */
#ifndef LWIP_WS_UNIX_ARCH_CC_H
#define LWIP_WS_UNIX_ARCH_CC_H

#include <stdio.h>
#include <stdlib.h>

/* Byte order from the compiler (glibc's <endian.h> may already have defined it). */
#ifndef BYTE_ORDER
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && \
    __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define BYTE_ORDER BIG_ENDIAN
#else
#define BYTE_ORDER LITTLE_ENDIAN
#endif
#endif

/* glibc provides <stdint.h>, <inttypes.h>, <limits.h>, <unistd.h>: lwIP's defaults
 * (LWIP_NO_STDINT_H, LWIP_NO_INTTYPES_H, LWIP_NO_LIMITS_H, LWIP_NO_UNISTD_H = 0) fit. */

/* Diagnostics: x is a parenthesized printf argument list. */
#define LWIP_PLATFORM_DIAG(x) do { printf x; fflush(stdout); } while (0)

/* A failed lwIP assertion is a bug: report where and stop. */
#define LWIP_PLATFORM_ASSERT(x) do { \
        fprintf(stderr, "lwIP assertion \"%s\" failed at %s:%d\n", (x), __FILE__, __LINE__); \
        fflush(NULL); \
        abort(); \
    } while (0)

#endif /* LWIP_WS_UNIX_ARCH_CC_H */
