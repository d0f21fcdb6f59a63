/*
 * lwip-ws shim: real functions for what lwIP offers only as macros or configuration,
 * compiled with the firmware's own lwipopts.h so the values match its build. Rust calls
 * these instead of re-implementing lwIP macros.
 *
 * The connection functions call the altcp_* API: with LWIP_ALTCP == 0 that is tcp_*
 * and lwipws_pcb is struct tcp_pcb; with LWIP_ALTCP == 1 it is struct altcp_pcb (so
 * altcp_tls connections work the same way).
 */
#ifndef LWIPWS_SHIM_H
#define LWIPWS_SHIM_H

#include "lwip/opt.h"
#include "lwip/altcp.h"
#include "lwip/err.h"
#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct altcp_pcb lwipws_pcb; /* = struct tcp_pcb when LWIP_ALTCP == 0 */
typedef err_t (*lwipws_recv_fn)(void *arg, lwipws_pcb *pcb, struct pbuf *p, err_t err);
typedef err_t (*lwipws_sent_fn)(void *arg, lwipws_pcb *pcb, u16_t len);
typedef void  (*lwipws_err_fn)(void *arg, err_t err);
typedef err_t (*lwipws_poll_fn)(void *arg, lwipws_pcb *pcb);
typedef err_t (*lwipws_accept_fn)(void *arg, lwipws_pcb *newpcb, err_t err);
typedef err_t (*lwipws_connected_fn)(void *arg, lwipws_pcb *pcb, err_t err);

/* Connections (lwIP core context only). */
lwipws_pcb *lwipws_new(u8_t ip_type);
void  lwipws_arg(lwipws_pcb *pcb, void *arg);
void  lwipws_recv(lwipws_pcb *pcb, lwipws_recv_fn fn);
void  lwipws_sent(lwipws_pcb *pcb, lwipws_sent_fn fn);
void  lwipws_err(lwipws_pcb *pcb, lwipws_err_fn fn);
void  lwipws_poll(lwipws_pcb *pcb, lwipws_poll_fn fn, u8_t interval);
void  lwipws_accept(lwipws_pcb *pcb, lwipws_accept_fn fn);
err_t lwipws_bind(lwipws_pcb *pcb, const ip_addr_t *addr, u16_t port);
lwipws_pcb *lwipws_listen(lwipws_pcb *pcb, u8_t backlog);
err_t lwipws_connect(lwipws_pcb *pcb, const ip_addr_t *addr, u16_t port,
                     lwipws_connected_fn fn);
err_t lwipws_write(lwipws_pcb *pcb, const void *data, u16_t len, u8_t flags);
err_t lwipws_output(lwipws_pcb *pcb);
void  lwipws_recved(lwipws_pcb *pcb, u16_t len);
err_t lwipws_close(lwipws_pcb *pcb);
void  lwipws_abort(lwipws_pcb *pcb);
err_t lwipws_shutdown(lwipws_pcb *pcb, int shut_rx, int shut_tx);
u16_t lwipws_sndbuf(lwipws_pcb *pcb);
u16_t lwipws_sndqueuelen(lwipws_pcb *pcb);
u16_t lwipws_mss(lwipws_pcb *pcb);
void  lwipws_nagle_disable(lwipws_pcb *pcb);
void  lwipws_nagle_enable(lwipws_pcb *pcb);
void  lwipws_setprio(lwipws_pcb *pcb, u8_t prio);
int   lwipws_remote(lwipws_pcb *pcb, ip_addr_t *addr, u16_t *port); /* 0 ok */
/* TCP keepalive (SOF_KEEPALIVE): idle_ms 0 turns it off. -1 when LWIP_TCP_KEEPALIVE is 0. */
int   lwipws_keepalive(lwipws_pcb *pcb, u32_t idle_ms, u32_t intvl_ms, u32_t count);

/* Received pbufs (lwIP core context). Writable bytes after the end of p's data (p->payload
 * + p->len) that belong to p alone: only for a pbuf from lwIP's PBUF_POOL that is neither
 * custom nor shared (ref 1), whose buffer is PBUF_POOL_BUFSIZE bytes (what NIC drivers
 * and altcp_tls deliver); 0 for every other pbuf. */
u16_t lwipws_pbuf_tailroom(const struct pbuf *p);

/* Configuration values and macros. */
u32_t lwipws_rand(void);             /* LWIP_RAND() */
u8_t  lwipws_write_flag_copy(void);  /* TCP_WRITE_FLAG_COPY */
u8_t  lwipws_write_flag_more(void);  /* TCP_WRITE_FLAG_MORE */
u32_t lwipws_tcp_snd_buf(void);      /* TCP_SND_BUF */
u32_t lwipws_tcp_wnd(void);          /* TCP_WND */
int   lwipws_no_sys(void);           /* NO_SYS */

/* Statistics: -1 (or NULL) when LWIP_STATS / MEM_STATS / MEMP_STATS are off. */
long  lwipws_stats_mem_used(void);     /* lwIP heap bytes in use */
long  lwipws_stats_mem_err(void);      /* failed heap allocations */
int   lwipws_stats_memp_count(void);   /* MEMP_MAX: number of pools */
long  lwipws_stats_memp_used(int i);   /* elements in use in pool i */
const char *lwipws_stats_memp_name(int i); /* pool i's name, e.g. "TCP_PCB" */

#ifdef LWIPWS_TEST_HOOKS
/* Test-only fault injection, compiled only into host builds that compile lwIP (feature
 * `compile` of lwip-sys), never into firmware: bit i of `bits` set makes the i-th
 * following call of lwipws_write (resp. lwipws_output) return ERR_MEM without calling
 * lwIP. 0 turns it off. */
void  lwipws_test_fail_writes(u32_t bits);
void  lwipws_test_fail_outputs(u32_t bits);
#endif

#if !NO_SYS && LWIP_TCPIP_CORE_LOCKING
/* Core lock for other tasks (LOCK_TCPIP_CORE / UNLOCK_TCPIP_CORE). */
void  lwipws_core_lock(void);
void  lwipws_core_unlock(void);
/* Runs fn(ctx) in the tcpip thread (tcpip_try_callback: never blocks, ERR_MEM if the
 * mailbox is full). */
err_t lwipws_tcpip_callback(void (*fn)(void *), void *ctx);
#endif

/* Tasks (the library's task-safe and blocking calls): present in every build; with
 * NO_SYS == 1 they refuse (-1, NULL). */
int   lwipws_task_support(void); /* 0 NO_SYS; 1 core locking; 2 posting to the tcpip thread */
int   lwipws_task_lock(void);    /* LOCK_TCPIP_CORE(): 0, or -1 without core locking */
void  lwipws_task_unlock(void);  /* UNLOCK_TCPIP_CORE() after lwipws_task_lock() == 0 */
/* LWIP_TCPIP_CORE_LOCKING 0: runs fn(ctx) in the tcpip thread and returns once it ran
 * (tcpip_send_msg_wait_sem with a semaphore of this call): 0, or -1 (no semaphore, or
 * another mode). Called in the tcpip thread itself (known only when the port defines
 * LWIP_WS_IN_TCPIP_THREAD()), fn runs at once. */
int   lwipws_task_post(void (*fn)(void *), void *ctx);
void *lwipws_sem_new(void);      /* a binary sys_sem_t (lwIP heap), NULL when none */
void  lwipws_sem_signal(void *sem);
int   lwipws_sem_wait(void *sem, u32_t timeout_ms); /* 0 signalled, -1 timed out */
void  lwipws_sem_free(void *sem);
void  lwipws_assert_core_locked(void); /* LWIP_ASSERT_CORE_LOCKED() */

#ifdef __cplusplus
}
#endif

#endif /* LWIPWS_SHIM_H */
