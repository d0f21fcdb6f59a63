/*
 * lwIP configuration for the bare-metal Cortex-M4 firmware (QEMU mps2-an386, LAN9118).
 *
 * NO_SYS=1: one main loop runs lwIP (hostnet_poll polls the NIC and the timers), so
 * every lwIP and lwip-ws call happens in that loop. Pools are sized like a small MCU
 * project, with room for the firmware tests: a few WebSocket connections and one
 * 64 KiB message in each direction. lwip-ws itself allocates from the C heap (or from
 * lwIP's heap with the `lwip-alloc` feature, which then needs a larger MEM_SIZE).
 */
#ifndef LWIP_WS_MPS2_LWIPOPTS_H
#define LWIP_WS_MPS2_LWIPOPTS_H

/* ---- system model ---------------------------------------------------------------- */
#define NO_SYS                          1
#define SYS_LIGHTWEIGHT_PROT            0   /* no interrupts touch lwIP: polling NIC */
#define LWIP_SOCKET                     0
#define LWIP_NETCONN                    0
#define LWIP_ALTCP                      0
#define LWIP_CALLBACK_API               1   /* required by lwip-ws */
#define LWIP_EVENT_API                  0

/* ---- memory ------------------------------------------------------------------------ */
#define MEM_LIBC_MALLOC                 0
#define MEMP_MEM_MALLOC                 0
#define MEM_ALIGNMENT                   4
/* lwIP's heap: PBUF_RAM for tcp_write copies (up to TCP_SND_BUF per connection) and
 * outgoing control segments. */
#ifndef MEM_SIZE
#define MEM_SIZE                        (96 * 1024)
#endif
#define MEMP_NUM_TCP_PCB                12  /* connections incl. TIME_WAIT */
#define MEMP_NUM_TCP_PCB_LISTEN         2
#define MEMP_NUM_TCP_SEG                64  /* >= TCP_SND_QUEUELEN */
#define MEMP_NUM_PBUF                   8   /* lwip-ws always copies (no PBUF_REF) */
#define MEMP_NUM_UDP_PCB                1
#define MEMP_NUM_SYS_TIMEOUT            (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 2)
#define PBUF_POOL_SIZE                  24  /* receive buffers for the NIC */

/* ---- network layers -------------------------------------------------------------------- */
#define LWIP_IPV4                       1
#define LWIP_IPV6                       0
#define LWIP_ETHERNET                   1
#define LWIP_ARP                        1
#define LWIP_ICMP                       1
#define LWIP_RAW                        0
#define LWIP_UDP                        0
#define LWIP_TCP                        1
#define LWIP_DHCP                       0
#define LWIP_AUTOIP                     0
#define LWIP_IGMP                       0
#define LWIP_DNS                        0
#define LWIP_SINGLE_NETIF               1
#define LWIP_HAVE_LOOPIF                0
#define LWIP_NETIF_LOOPBACK             0
#define LWIP_NETIF_STATUS_CALLBACK      0
#define LWIP_NETIF_LINK_CALLBACK        0
#define ETH_PAD_SIZE                    0

/* ---- TCP ------------------------------------------------------------------------------- */
#define TCP_MSS                         1460
#define TCP_SND_BUF                     (8 * TCP_MSS)
#define TCP_WND                         (4 * TCP_MSS)
#define TCP_SND_QUEUELEN                ((4 * TCP_SND_BUF) / TCP_MSS)
#define TCP_QUEUE_OOSEQ                 1
#define TCP_LISTEN_BACKLOG              1
#define LWIP_TCP_KEEPALIVE              1
#define SO_REUSE                        1

/* ---- randomness -------------------------------------------------------------------------- */
/* A xorshift generator seeded from the clock (ports/mps2-an386/sys.c): enough for a QEMU
 * test. A product must back LWIP_RAND with a hardware RNG: lwip-ws uses it for client
 * mask keys and handshake nonces. */
#define LWIP_RAND()                     mps2_rand()

/* ---- statistics and debugging ------------------------------------------------------------ */
#define LWIP_STATS                      0
#define LWIP_STATS_DISPLAY              0
/* Asserts stay on (LWIP_NOASSERT undefined): they print and exit non-zero. */

#endif /* LWIP_WS_MPS2_LWIPOPTS_H */
