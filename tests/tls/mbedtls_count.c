/*
 * Counts mbedTLS's heap allocations in the TLS test programs. Debian's mbedTLS 2.28 is
 * built without MBEDTLS_PLATFORM_MEMORY, so lwIP's altcp_tls_mbedtls_mem.c cannot hook
 * it and mbedTLS allocates from the C library, not lwIP's heap. tests/tls/Makefile links
 * copies of Debian's static mbedTLS archives whose calloc/free references are renamed to
 * these two functions (objcopy --redefine-sym): every block mbedTLS holds is counted.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mbedtls_count.h"

/* Each block carries its size in front; the header keeps max_align_t alignment. */
typedef union {
    size_t size;
    long double align_ld;
    void *align_p;
} Header;

static long liveBlocks, liveBytes, peakBytes;

void *lwipws_mbedtls_calloc(size_t n, size_t size)
{
    Header *h;
    if (size != 0 && n > (SIZE_MAX - sizeof *h) / size) {
        return NULL;
    }
    h = calloc(1, sizeof *h + n * size);
    if (h == NULL) {
        return NULL;
    }
    h->size = n * size;
    liveBlocks++;
    liveBytes += (long)h->size;
    if (liveBytes > peakBytes) {
        peakBytes = liveBytes;
    }
    return h + 1;
}

void lwipws_mbedtls_free(void *p)
{
    Header *h;
    if (p == NULL) {
        return;
    }
    h = (Header *)p - 1;
    liveBlocks--;
    liveBytes -= (long)h->size;
    free(h);
}

long mbedtlsLiveBlocks(void)
{
    return liveBlocks;
}

long mbedtlsLiveBytes(void)
{
    return liveBytes;
}

long mbedtlsPeakBytes(void)
{
    return peakBytes;
}
