/*
 * The lwIP benchmark's own configuration (benches/lwip.rs, run by scripts/bench): the host
 * configuration (ports/unix/include/lwipopts.h, every choice commented there) with pools
 * for the fan-out to 1,000 WebSocket connections. Both ends live in one stack, so that is
 * ~2,000 pcbs at once (plus TIME_WAIT), a queued segment or more each, and more heap.
 * TCP_MSS, TCP_SND_BUF and TCP_WND stay at the host values (1460, 16 * MSS, 16 * MSS), so
 * the echo figures are those of the tested configuration. Any size can still be overridden
 * with LWIP_DEFINES (-DNAME=VALUE), as every size below is guarded by #ifndef.
 */
#ifndef LWIP_WS_BENCH_LWIPOPTS_H
#define LWIP_WS_BENCH_LWIPOPTS_H

/* Connections: 1,000 clients + 1,000 server ends + listeners + TIME_WAIT of earlier runs. */
#ifndef MEMP_NUM_TCP_PCB
#define MEMP_NUM_TCP_PCB                2200
#endif
/* Unacknowledged and out-of-order segments over all connections at once. */
#ifndef MEMP_NUM_TCP_SEG
#define MEMP_NUM_TCP_SEG                8192
#endif
/* Pbufs referencing application memory. */
#ifndef MEMP_NUM_PBUF
#define MEMP_NUM_PBUF                   1024
#endif
/* lwIP's heap (segments' data, PBUF_RAM): 32 MiB for 2,000 connections in flight. */
#ifndef MEM_SIZE
#define MEM_SIZE                        (32 * 1024 * 1024)
#endif

/* Everything else, arch/cc.h and unixport.h come from the host port, which follows
 * this folder in LWIP_INCLUDE_DIRS. */
#include "../../ports/unix/include/lwipopts.h"

#endif /* LWIP_WS_BENCH_LWIPOPTS_H */
