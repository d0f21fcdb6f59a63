/*
 * The TLS firmware's mbedTLS memory and clock figures (tls_port.c).
 *
 * tls_port.c is lwIP's altcp_tls memory port for this image (it replaces lwIP's example
 * altcp_tls_mbedtls_mem.c): every mbedTLS block and every connection's altcp_tls state
 * comes from lwIP's heap (mem_malloc, within MEM_SIZE) and is counted here. It also
 * times the handshake steps (mbedtls_ssl_handshake, wrapped with the linker's --wrap).
 */
#ifndef LWIP_WS_MPS2_TLS_PORT_H
#define LWIP_WS_MPS2_TLS_PORT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    size_t liveBytes;  /* mbedTLS blocks and altcp_tls states now held */
    size_t liveBlocks;
    size_t peakBytes;  /* the most liveBytes reached since tls_port_reset_peak */
    size_t failed;     /* allocations lwIP's heap refused */
} TlsHeap;

/* What the TLS connections of one busy period cost: from the first connection's state
 * allocated while none was open to the last one freed. */
typedef struct {
    unsigned connections;    /* TLS connections in the period */
    size_t peakBytes;        /* the most bytes held above the idle level before it */
    size_t keptBytes;        /* bytes still held after it (mbedTLS's one-time blocks) */
    uint64_t handshakeTicks; /* SysTick ticks (25 MHz) in mbedtls_ssl_handshake; with
                              * QEMU's -icount shift=0, 1 tick = 40 instructions */
    unsigned handshakes;     /* handshakes completed */
} TlsPeriod;

void tls_port_heap(TlsHeap *out);
/* The state now is the idle level: every TLS state alive now is a listener's. */
void tls_port_set_idle(void);
/* Bytes held now above the idle level before the current busy period. */
size_t tls_port_busy_bytes(void);
/* 1 and *out when no TLS connection is open and a busy period ended since the last
 * call; else 0. */
int tls_port_take_period(TlsPeriod *out);

#endif /* LWIP_WS_MPS2_TLS_PORT_H */
