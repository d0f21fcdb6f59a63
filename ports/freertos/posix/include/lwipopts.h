/*
 * Host variant of ports/freertos/include/lwipopts.h for the POSIX simulator tests: the
 * template as it is (NO_SYS 0, core locking, owner-checked LWIP_ASSERT_CORE_LOCKED), with
 * 64-bit alignment, room for 50+ connections, statistics for leak checks, and a static
 * address instead of DHCP (libslirp's 10.0.2.15).
 */
#ifndef LWIP_WS_FREERTOS_POSIX_LWIPOPTS_H
#define LWIP_WS_FREERTOS_POSIX_LWIPOPTS_H

#include "../../include/lwipopts.h"

#undef MEM_ALIGNMENT
#define MEM_ALIGNMENT                   8
#undef MEM_SIZE
#define MEM_SIZE                        (1024 * 1024)
#undef MEMP_NUM_TCP_PCB
#define MEMP_NUM_TCP_PCB                80
#undef MEMP_NUM_TCP_PCB_LISTEN
#define MEMP_NUM_TCP_PCB_LISTEN         4
#undef MEMP_NUM_TCP_SEG
#define MEMP_NUM_TCP_SEG                1024
#undef MEMP_NUM_PBUF
#define MEMP_NUM_PBUF                   256
#undef MEMP_NUM_TCPIP_MSG_INPKT
#define MEMP_NUM_TCPIP_MSG_INPKT        256
#undef PBUF_POOL_SIZE
#define PBUF_POOL_SIZE                  512
#undef TCPIP_MBOX_SIZE
#define TCPIP_MBOX_SIZE                 256
#undef TCPIP_THREAD_STACKSIZE
#define TCPIP_THREAD_STACKSIZE          16384   /* words: pthread stacks, Rust frames */
#undef TCP_SND_QUEUELEN
#define TCP_SND_QUEUELEN                64
#undef LWIP_DHCP
#define LWIP_DHCP                       0
#undef LWIP_STATS
#define LWIP_STATS                      1
#define MEM_STATS                       1
#define MEMP_STATS                      1
#define SYS_STATS                       1
#undef TCP_LISTEN_BACKLOG
#define TCP_LISTEN_BACKLOG              0

/* The variant without core locking (scripts/test-freertos: the task calls must refuse). */
#ifdef LWIPWS_TEST_NO_CORE_LOCKING
#undef LWIP_TCPIP_CORE_LOCKING
#define LWIP_TCPIP_CORE_LOCKING         0
#undef LOCK_TCPIP_CORE
#undef UNLOCK_TCPIP_CORE
#endif

#endif /* LWIP_WS_FREERTOS_POSIX_LWIPOPTS_H */
