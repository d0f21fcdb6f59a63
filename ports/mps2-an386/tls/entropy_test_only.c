/*
 * TEST ONLY - NOT AN ENTROPY SOURCE FOR A PRODUCT.
 *
 * mbedTLS's entropy for the QEMU TLS image (MBEDTLS_ENTROPY_HARDWARE_ALT): QEMU's
 * mps2-an386 board has no random number generator, so this reads the HOST's
 * /dev/urandom through semihosting (a debugger feature QEMU offers with
 * `-semihosting-config enable=on,target=native`). On real hardware without a debugger
 * attached the semihosting call faults; with one attached it would take "randomness"
 * from the debug probe's host. Either way it has no place in a product.
 *
 * What a product must provide instead: mbedtls_hardware_poll() filling `output` from
 * the chip's true random number generator (TRNG/RNG peripheral, checked for its health
 * errors: return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED on one, never a constant), with
 * MBEDTLS_ENTROPY_HARDWARE_ALT and MBEDTLS_NO_PLATFORM_ENTROPY in its mbedTLS
 * configuration. Keys, ECDHE secrets and nonces all come from it: a guessable source
 * makes every TLS session readable. A chip without a TRNG needs a seed provisioned at
 * manufacture (MBEDTLS_ENTROPY_NV_SEED) and must not fake one from timers or counters.
 */
#include <stddef.h>

#include "mbedtls/entropy.h"

#define SYS_OPEN  0x01
#define SYS_READ  0x06

static int semihost(int op, void *args)
{
    register int r0 __asm("r0") = op;
    register void *r1 __asm("r1") = args;
    __asm volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen)
{
    static const char path[] = "/dev/urandom";
    static int handle = -1;
    size_t args[3];
    int left;
    (void)data;
    *olen = 0;
    if (handle < 0) {
        args[0] = (size_t)path;
        args[1] = 0; /* "r" */
        args[2] = sizeof path - 1;
        handle = semihost(SYS_OPEN, args);
        if (handle < 0) {
            return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
        }
    }
    args[0] = (size_t)handle;
    args[1] = (size_t)output;
    args[2] = len;
    left = semihost(SYS_READ, args); /* the number of bytes NOT read */
    if (left < 0 || (size_t)left > len) {
        return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
    }
    *olen = len - (size_t)left;
    return 0;
}
