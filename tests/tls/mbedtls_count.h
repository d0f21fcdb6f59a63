/* mbedTLS's live heap blocks and bytes in the TLS test programs (mbedtls_count.c). */
#ifndef LWIPWS_MBEDTLS_COUNT_H
#define LWIPWS_MBEDTLS_COUNT_H

#include <stddef.h>

void *lwipws_mbedtls_calloc(size_t n, size_t size);
void lwipws_mbedtls_free(void *p);
long mbedtlsLiveBlocks(void);
long mbedtlsLiveBytes(void);
long mbedtlsPeakBytes(void);

#endif /* LWIPWS_MBEDTLS_COUNT_H */
