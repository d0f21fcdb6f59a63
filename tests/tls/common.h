/*
 * Shared by the TLS test programs (wss_server.c, wss_client.c): reading a certificate
 * file, and a snapshot of lwIP's heap and pools and of mbedTLS's own heap blocks
 * (mbedtls_count.c: on the host mbedTLS allocates from the C library, not lwIP's heap).
 */
#ifndef LWIPWS_TLS_TEST_COMMON_H
#define LWIPWS_TLS_TEST_COMMON_H

#include <stdio.h>
#include <stdlib.h>

#include "lwipws_shim.h"
#include "mbedtls_count.h"

#define MAX_POOLS 64

typedef struct {
    long mbedtlsBlocks, mbedtlsBytes;
    long heap;
    int pools;
    long used[MAX_POOLS];
} MemSnapshot;

static void memSnapshot(MemSnapshot *s)
{
    int i;
    s->mbedtlsBlocks = mbedtlsLiveBlocks();
    s->mbedtlsBytes = mbedtlsLiveBytes();
    s->heap = lwipws_stats_mem_used();
    s->pools = lwipws_stats_memp_count();
    if (s->pools > MAX_POOLS) {
        s->pools = MAX_POOLS;
    }
    for (i = 0; i < s->pools; i++) {
        s->used[i] = lwipws_stats_memp_used(i);
    }
}

/* Counts the differences from base, printing each unless prog is NULL. */
static int memCompare(const char *prog, const MemSnapshot *base, const MemSnapshot *now)
{
    int i, diffs = 0;
    if (now->mbedtlsBlocks != base->mbedtlsBlocks || now->mbedtlsBytes != base->mbedtlsBytes) {
        if (prog != NULL) {
            printf("%s: memory: mbedTLS holds %ld blocks, %ld bytes; baseline %ld, %ld\n",
                   prog, now->mbedtlsBlocks, now->mbedtlsBytes, base->mbedtlsBlocks,
                   base->mbedtlsBytes);
        }
        diffs++;
    }
    if (now->heap != base->heap) {
        if (prog != NULL) {
            printf("%s: memory: lwIP heap %ld bytes in use, baseline %ld\n", prog, now->heap,
                   base->heap);
        }
        diffs++;
    }
    for (i = 0; i < base->pools; i++) {
        if (now->used[i] != base->used[i]) {
            if (prog != NULL) {
                printf("%s: memory: pool %s %ld in use, baseline %ld\n", prog,
                       lwipws_stats_memp_name(i), now->used[i], base->used[i]);
            }
            diffs++;
        }
    }
    return diffs;
}

/* The whole file, NUL-terminated; *len counts the NUL (PEM is accepted either way). NULL
 * on error. */
static char *readFile(const char *path, int *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;
    if (f == NULL) {
        perror(path);
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && n < (1L << 20) &&
        fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
        if (fread(buf, 1, (size_t)n, f) == (size_t)n) {
            buf[n] = '\0';
            *len = (int)n + 1;
        } else {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    if (buf == NULL) {
        fprintf(stderr, "%s: cannot read\n", path);
    }
    return buf;
}

#endif /* LWIPWS_TLS_TEST_COMMON_H */
