/*
 * lwIP configuration for host builds of lwip-ws (Linux, NO_SYS=1 main loop).
 *
 * Used by the host tests, the demos and ports/unix/Makefile. Firmware uses its own
 * lwipopts.h (see LWIP_INCLUDE_DIRS in lwip-sys/build.rs). The sizes are generous on
 * purpose: tests open many connections and move megabytes through one process.
 * Every size can be overridden from the command line (-DNAME=VALUE) or LWIP_DEFINES.
 */
#ifndef LWIP_WS_UNIX_LWIPOPTS_H
#define LWIP_WS_UNIX_LWIPOPTS_H

#include <stdint.h> /* uint32_t for unixport_rand() (lwIP's u32_t is not defined yet) */

/* ---- system model ------------------------------------------------------------ */

/* No OS layer: one thread runs lwIP from a main loop (unixport_poll / hostnet_poll).
 * lwIP is not thread-safe in this mode: every lwIP call must come from that thread. */
#define NO_SYS                          1
/* Single-threaded: no critical sections needed. */
#define SYS_LIGHTWEIGHT_PROT            0
/* The sequential APIs need an OS; lwip-ws uses the raw TCP API only. */
#define LWIP_SOCKET                     0
#define LWIP_NETCONN                    0
/* Application layered TCP (TLS via altcp_tls) is off: the altcp_* API then compiles
 * down to tcp_* and the lwip-ws shim works either way. To try it: set to 1. */
#ifndef LWIP_ALTCP
#define LWIP_ALTCP                      0
/* #define LWIP_ALTCP                   1 */
#endif
/* Raw API callbacks (tcp_recv/tcp_sent/...), not the event API. */
#define LWIP_CALLBACK_API               1
#define LWIP_EVENT_API                  0

/* ---- memory ---------------------------------------------------------------------- */

/* lwIP's own heap (not the C library's), so MEM_STATS sees every allocation. */
#define MEM_LIBC_MALLOC                 0
#define MEMP_MEM_MALLOC                 0
/* 8 on 64-bit hosts: with 4, ASan/UBSan report a misaligned struct memp on x86_64. */
#ifndef MEM_ALIGNMENT
#if defined(__LP64__) || defined(_LP64)
#define MEM_ALIGNMENT                   8
#else
#define MEM_ALIGNMENT                   4
#endif
#endif
/* Heap for PBUF_RAM (tcp_write copies, loopback frames): 8 MiB. */
#ifndef MEM_SIZE
#define MEM_SIZE                        (8 * 1024 * 1024)
#endif
/* Active TCP connections (including TIME_WAIT) and listeners: room for the demo's 256
 * WebSockets, its waiting requests, and connections closing under attack. */
#ifndef MEMP_NUM_TCP_PCB
#define MEMP_NUM_TCP_PCB                512
#endif
#ifndef MEMP_NUM_TCP_PCB_LISTEN
#define MEMP_NUM_TCP_PCB_LISTEN         8
#endif
/* Queued TCP segments over all connections (sent-but-unacked and out-of-order). */
#ifndef MEMP_NUM_TCP_SEG
#define MEMP_NUM_TCP_SEG                1024
#endif
/* Pbufs referencing application memory (tcp_write without TCP_WRITE_FLAG_COPY). */
#ifndef MEMP_NUM_PBUF
#define MEMP_NUM_PBUF                   256
#endif
/* Timers: lwIP's own plus a few for applications (sys_timeout; the examples' sensor). */
#ifndef MEMP_NUM_SYS_TIMEOUT
#define MEMP_NUM_SYS_TIMEOUT            (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 4)
#endif
/* Receive buffers for the TAP and slirp netifs. */
#ifndef PBUF_POOL_SIZE
#define PBUF_POOL_SIZE                  256
#endif

/* ---- network layers ------------------------------------------------------------ */

/* IPv4 only; IPv6 is not needed by the tests (ip_addr_t is then ip4_addr_t). */
#define LWIP_IPV4                       1
#define LWIP_IPV6                       0
/* Ethernet + ARP for the TAP and slirp netifs. */
#define LWIP_ETHERNET                   1
#define LWIP_ARP                        1
/* Answer ping on TAP (slirp does not forward ICMP to the host). */
#define LWIP_ICMP                       1
/* Addresses are static; DHCP, AutoIP, IGMP and DNS are not needed. */
#define LWIP_DHCP                       0
#define LWIP_AUTOIP                     0
#define LWIP_IGMP                       0
#define LWIP_DNS                        0
/* UDP stays on (cheap; useful for future tests). */
#define LWIP_UDP                        1
#define LWIP_TCP                        1
/* No raw IP pcbs (ping replies come from the ICMP module, not from raw pcbs). */
#define LWIP_RAW                        0

/* lwIP's own loopback interface serves 127.0.0.1, so the in-process tests run both
 * ends of a connection in one stack. Frames are queued and delivered by
 * netif_poll_all() (called by unixport_poll), never recursively. */
#define LWIP_HAVE_LOOPIF                1
#define LWIP_NETIF_LOOPBACK             1
/* No limit on frames queued on the loopback netif (0 = unlimited). */
#define LWIP_LOOPBACK_MAX_PBUFS         0
/* Several netifs at once (loopback + TAP/slirp). */
#define LWIP_SINGLE_NETIF               0
/* No status/link callbacks needed: netifs are configured statically. */
#define LWIP_NETIF_STATUS_CALLBACK      0
#define LWIP_NETIF_LINK_CALLBACK        0

/* ---- TCP --------------------------------------------------------------------------- */

/* Ethernet MSS (1500 - 40). */
#ifndef TCP_MSS
#define TCP_MSS                         1460
#endif
/* Send buffer and receive window: 16 segments each (23360 bytes, below 64 KiB, so no
 * window scaling is needed). */
#ifndef TCP_SND_BUF
#define TCP_SND_BUF                     (16 * TCP_MSS)
#endif
#ifndef TCP_WND
#define TCP_WND                         (16 * TCP_MSS)
#endif
/* Queued pbufs per connection: lwIP requires at least 2 * TCP_SND_BUF / TCP_MSS;
 * 8x leaves room for many small writes (small WebSocket frames). */
#ifndef TCP_SND_QUEUELEN
#define TCP_SND_QUEUELEN                ((8 * TCP_SND_BUF) / TCP_MSS)
#endif
/* Backlog for tcp_listen_with_backlog and tcp_backlog_delayed/accepted. */
#define TCP_LISTEN_BACKLOG              1
/* Keep out-of-order segments (real networks reorder; slirp and TAP may too). */
#define TCP_QUEUE_OOSEQ                 1
/* Keepalive options on the pcb (used to detect dead peers). */
#define LWIP_TCP_KEEPALIVE              1
/* SO_REUSEADDR semantics: tests rebind a port while old connections sit in TIME_WAIT. */
#define SO_REUSE                        1

/* ---- randomness ---------------------------------------------------------------------- */

/* Local ports and (through lwipws_rand) WebSocket mask keys and handshake nonces. RFC 6455
 * section 5.3 wants mask keys from a strong source of entropy: unixport_rand() (port.c)
 * hands out 32-bit words from a per-thread pool that the kernel's getrandom() refills.
 * (glibc's rand() would be predictable, and has only 31 bits.) Firmware: a hardware RNG. */
#ifndef LWIP_RAND
#ifdef __cplusplus
extern "C"
#endif
uint32_t unixport_rand(void);
#define LWIP_RAND()                     ((u32_t)unixport_rand())
#endif

/* ---- statistics ------------------------------------------------------------------------ */

/* The tests compare heap and pool usage before and after each scenario. */
#define LWIP_STATS                      1
#define MEM_STATS                       1
#define MEMP_STATS                      1
/* stats_display() is not needed (it would also pull in printf formatting). */
#define LWIP_STATS_DISPLAY              0

/* Debugging: asserts stay on (LWIP_NOASSERT undefined); LWIP_DEBUG messages are off. */

#endif /* LWIP_WS_UNIX_LWIPOPTS_H */
