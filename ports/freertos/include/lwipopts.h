/*
 * Template lwIP configuration for lwip-ws on FreeRTOS (NO_SYS=0, core locking).
 *
 * Copy into your project and adjust the sizes. lwIP runs in its tcpip thread; lwip-ws
 * calls (and its callbacks) run there too, or in any task that holds the core lock
 * (LOCK_TCPIP_CORE()). See ports/freertos/README.md. The lwip-ws library must be built
 * against this file (LWIP_INCLUDE_DIRS), since struct layouts depend on it.
 */
#ifndef LWIP_WS_FREERTOS_LWIPOPTS_H
#define LWIP_WS_FREERTOS_LWIPOPTS_H

/* ---- system model ---------------------------------------------------------------- */
#define NO_SYS                          0
/* Tasks may call lwIP's raw API (and lwip-ws) after LOCK_TCPIP_CORE(): no message to
 * the tcpip thread and no context switch per call. */
#define LWIP_TCPIP_CORE_LOCKING         1
/* Received frames are fed with the core lock taken (tcpip_input runs the stack in the
 * caller's task) instead of being posted to the tcpip thread's mailbox. 0 is also fine. */
#define LWIP_TCPIP_CORE_LOCKING_INPUT   0
/* Critical sections around lwIP's pools and heap (taskENTER_CRITICAL, sys_arch.h). */
#define SYS_LIGHTWEIGHT_PROT            1
/* Catch raw-API calls from tasks without the core lock (debug builds): sys_arch.c
 * remembers the tcpip thread and the lock owner. */
void sys_check_core_locking(void);
void sys_mark_tcpip_thread(void);
void sys_lock_tcpip_core(void);
void sys_unlock_tcpip_core(void);
#define LWIP_ASSERT_CORE_LOCKED()       sys_check_core_locking()
#define LWIP_MARK_TCPIP_THREAD()        sys_mark_tcpip_thread()
#define LOCK_TCPIP_CORE()               sys_lock_tcpip_core()
#define UNLOCK_TCPIP_CORE()             sys_unlock_tcpip_core()
/* With LWIP_TCPIP_CORE_LOCKING 0, lwip-ws's task calls post their work to the tcpip
 * thread and wait; this tells them when they already are that thread (run at once
 * instead of waiting on themselves). Optional. */
int sys_in_tcpip_thread(void);
#define LWIP_WS_IN_TCPIP_THREAD()       sys_in_tcpip_thread()

/* The tcpip thread. */
#define TCPIP_THREAD_NAME               "tcpip"
#define TCPIP_THREAD_STACKSIZE          2048    /* words (configSTACK_DEPTH_TYPE) */
#define TCPIP_THREAD_PRIO               (configMAX_PRIORITIES - 2)
#define TCPIP_MBOX_SIZE                 16
#define DEFAULT_THREAD_STACKSIZE        1024
#define DEFAULT_RAW_RECVMBOX_SIZE       8
#define DEFAULT_UDP_RECVMBOX_SIZE       8
#define DEFAULT_TCP_RECVMBOX_SIZE       8
#define DEFAULT_ACCEPTMBOX_SIZE         8

/* lwip-ws uses only the raw TCP API; netconn/sockets may stay on for other code. */
#define LWIP_NETCONN                    0
#define LWIP_SOCKET                     0
#define LWIP_ALTCP                      0   /* 1 works too (altcp_tls for wss://) */
#define LWIP_CALLBACK_API               1   /* required by lwip-ws */
#define LWIP_EVENT_API                  0

/* ---- memory ------------------------------------------------------------------------ */
#define MEM_LIBC_MALLOC                 0
#define MEMP_MEM_MALLOC                 0
#define MEM_ALIGNMENT                   4
#define MEM_SIZE                        (32 * 1024)
#define MEMP_NUM_TCP_PCB                8   /* WebSocket connections + TIME_WAIT */
#define MEMP_NUM_TCP_PCB_LISTEN         2
#define MEMP_NUM_TCP_SEG                32
#define MEMP_NUM_PBUF                   8
#define MEMP_NUM_TCPIP_MSG_INPKT        16
#define MEMP_NUM_SYS_TIMEOUT            (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 4)
#define PBUF_POOL_SIZE                  16

/* ---- network layers -------------------------------------------------------------------- */
#define LWIP_IPV4                       1
#define LWIP_IPV6                       0
#define LWIP_ETHERNET                   1
#define LWIP_ARP                        1
#define LWIP_ICMP                       1
#define LWIP_UDP                        1
#define LWIP_TCP                        1
#define LWIP_DHCP                       1
#define LWIP_DNS                        0
#define LWIP_RAW                        0
#define LWIP_NETIF_STATUS_CALLBACK      1
#define LWIP_NETIF_LINK_CALLBACK        1

/* ---- TCP ------------------------------------------------------------------------------- */
#define TCP_MSS                         1460
#define TCP_SND_BUF                     (4 * TCP_MSS)   /* lwip-ws never writes more */
#define TCP_WND                         (4 * TCP_MSS)
#define TCP_SND_QUEUELEN                ((4 * TCP_SND_BUF) / TCP_MSS)
#define TCP_QUEUE_OOSEQ                 1
#define TCP_LISTEN_BACKLOG              1
#define LWIP_TCP_KEEPALIVE              1
#define SO_REUSE                        1

/* ---- randomness -------------------------------------------------------------------------- */
/* Back this by the MCU's hardware RNG: lwip-ws uses it for client masks and nonces. */
#define LWIP_RAND()                     sys_port_random()

/* ---- statistics and debugging ------------------------------------------------------------ */
#define LWIP_STATS                      0
#define LWIP_STATS_DISPLAY              0

#endif /* LWIP_WS_FREERTOS_LWIPOPTS_H */
