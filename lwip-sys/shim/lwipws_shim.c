/*
 * lwip-ws shim (see lwipws_shim.h). Compiled with the firmware's lwIP configuration.
 */
#include "lwipws_shim.h"

#include "lwip/mem.h"
#include "lwip/memp.h"
#include "lwip/sys.h"
#include "lwip/stats.h"
#if !NO_SYS
#include "lwip/tcpip.h"
#if !NO_SYS
#include "lwip/priv/tcpip_priv.h"
#endif
#endif

lwipws_pcb *lwipws_new(u8_t ip_type) { return altcp_new_ip_type(NULL, ip_type); }
void lwipws_arg(lwipws_pcb *pcb, void *arg) { altcp_arg(pcb, arg); }
void lwipws_recv(lwipws_pcb *pcb, lwipws_recv_fn fn) { altcp_recv(pcb, fn); }
void lwipws_sent(lwipws_pcb *pcb, lwipws_sent_fn fn) { altcp_sent(pcb, fn); }
void lwipws_err(lwipws_pcb *pcb, lwipws_err_fn fn) { altcp_err(pcb, fn); }
void lwipws_poll(lwipws_pcb *pcb, lwipws_poll_fn fn, u8_t interval)
{
    altcp_poll(pcb, fn, interval);
}
void lwipws_accept(lwipws_pcb *pcb, lwipws_accept_fn fn) { altcp_accept(pcb, fn); }

err_t lwipws_bind(lwipws_pcb *pcb, const ip_addr_t *addr, u16_t port)
{
    return altcp_bind(pcb, addr, port);
}

lwipws_pcb *lwipws_listen(lwipws_pcb *pcb, u8_t backlog)
{
    return altcp_listen_with_backlog(pcb, backlog);
}

err_t lwipws_connect(lwipws_pcb *pcb, const ip_addr_t *addr, u16_t port,
                     lwipws_connected_fn fn)
{
    return altcp_connect(pcb, addr, port, fn);
}

#ifdef LWIPWS_TEST_HOOKS
/* Test-only fault injection (see lwipws_shim.h): one bit per call, lowest bit first. */
static u32_t lwipws_fail_write_bits;
static u32_t lwipws_fail_output_bits;

void lwipws_test_fail_writes(u32_t bits) { lwipws_fail_write_bits = bits; }
void lwipws_test_fail_outputs(u32_t bits) { lwipws_fail_output_bits = bits; }

static int lwipws_take_fault(u32_t *bits)
{
    int fail = (int)(*bits & 1u);
    *bits >>= 1;
    return fail;
}
#endif

err_t lwipws_write(lwipws_pcb *pcb, const void *data, u16_t len, u8_t flags)
{
#ifdef LWIPWS_TEST_HOOKS
    if (lwipws_take_fault(&lwipws_fail_write_bits)) {
        return ERR_MEM;
    }
#endif
    return altcp_write(pcb, data, len, flags);
}

err_t lwipws_output(lwipws_pcb *pcb)
{
#ifdef LWIPWS_TEST_HOOKS
    if (lwipws_take_fault(&lwipws_fail_output_bits)) {
        return ERR_MEM;
    }
#endif
    return altcp_output(pcb);
}
void lwipws_recved(lwipws_pcb *pcb, u16_t len) { altcp_recved(pcb, len); }
err_t lwipws_close(lwipws_pcb *pcb) { return altcp_close(pcb); }
void lwipws_abort(lwipws_pcb *pcb) { altcp_abort(pcb); }

err_t lwipws_shutdown(lwipws_pcb *pcb, int shut_rx, int shut_tx)
{
    return altcp_shutdown(pcb, shut_rx, shut_tx);
}

u16_t lwipws_sndbuf(lwipws_pcb *pcb) { return (u16_t)altcp_sndbuf(pcb); }
u16_t lwipws_sndqueuelen(lwipws_pcb *pcb) { return (u16_t)altcp_sndqueuelen(pcb); }
u16_t lwipws_mss(lwipws_pcb *pcb) { return (u16_t)altcp_mss(pcb); }
u16_t lwipws_pbuf_tailroom(const struct pbuf *p)
{
    const u8_t *end;
    const u8_t *tail;
    if ((p->type_internal & PBUF_TYPE_ALLOC_SRC_MASK) != PBUF_TYPE_ALLOC_SRC_MASK_STD_MEMP_PBUF_POOL ||
        (p->flags & PBUF_FLAG_IS_CUSTOM) != 0 || p->ref != 1) {
        return 0;
    }
    /* A PBUF_POOL element: the struct, then PBUF_POOL_BUFSIZE bytes of buffer, each part
     * rounded up to MEM_ALIGNMENT (memp_std.h, LWIP_PBUF_MEMPOOL; pbuf.c, pbuf_alloc). */
    end = (const u8_t *)p + LWIP_MEM_ALIGN_SIZE(sizeof(struct pbuf)) +
          LWIP_MEM_ALIGN_SIZE(PBUF_POOL_BUFSIZE);
    tail = (const u8_t *)p->payload + p->len;
    return (tail >= (const u8_t *)p && tail < end) ? (u16_t)(end - tail) : 0;
}

void lwipws_nagle_disable(lwipws_pcb *pcb) { altcp_nagle_disable(pcb); }
void lwipws_nagle_enable(lwipws_pcb *pcb) { altcp_nagle_enable(pcb); }
void lwipws_setprio(lwipws_pcb *pcb, u8_t prio) { altcp_setprio(pcb, prio); }

int lwipws_remote(lwipws_pcb *pcb, ip_addr_t *addr, u16_t *port)
{
#if LWIP_ALTCP
    return altcp_get_tcp_addrinfo(pcb, 0, addr, port) == ERR_OK ? 0 : -1;
#else
    /* lwIP 2.1's altcp.h maps this to tcp_get_tcp_addrinfo, which does not exist
     * (tcp_tcp_get_tcp_addrinfo does): read the pcb directly. */
    if (pcb == NULL || addr == NULL || port == NULL) {
        return -1;
    }
    ip_addr_copy(*addr, pcb->remote_ip);
    *port = pcb->remote_port;
    return 0;
#endif
}

int lwipws_keepalive(lwipws_pcb *pcb, u32_t idle_ms, u32_t intvl_ms, u32_t count)
{
#if LWIP_TCP_KEEPALIVE
    if (pcb == NULL) {
        return -1;
    }
#if LWIP_ALTCP
    if (idle_ms == 0) {
        altcp_keepalive_disable(pcb);
    } else {
        altcp_keepalive_enable(pcb, idle_ms, intvl_ms, count);
    }
#else
    if (idle_ms == 0) {
        ip_reset_option(pcb, SOF_KEEPALIVE);
    } else {
        ip_set_option(pcb, SOF_KEEPALIVE);
        pcb->keep_idle = idle_ms;
        pcb->keep_intvl = intvl_ms;
        pcb->keep_cnt = count;
    }
#endif
    return 0;
#else
    (void)pcb;
    (void)idle_ms;
    (void)intvl_ms;
    (void)count;
    return -1;
#endif
}

u32_t lwipws_rand(void) { return (u32_t)LWIP_RAND(); }
u8_t lwipws_write_flag_copy(void) { return TCP_WRITE_FLAG_COPY; }
u8_t lwipws_write_flag_more(void) { return TCP_WRITE_FLAG_MORE; }
u32_t lwipws_tcp_snd_buf(void) { return (u32_t)TCP_SND_BUF; }
u32_t lwipws_tcp_wnd(void) { return (u32_t)TCP_WND; }
int lwipws_no_sys(void) { return NO_SYS; }

long lwipws_stats_mem_used(void)
{
#if LWIP_STATS && MEM_STATS
    return (long)lwip_stats.mem.used;
#else
    return -1;
#endif
}

long lwipws_stats_mem_err(void)
{
#if LWIP_STATS && MEM_STATS
    return (long)lwip_stats.mem.err;
#else
    return -1;
#endif
}

int lwipws_stats_memp_count(void) { return (int)MEMP_MAX; }

long lwipws_stats_memp_used(int i)
{
#if LWIP_STATS && MEMP_STATS
    if (i >= 0 && i < (int)MEMP_MAX && lwip_stats.memp[i] != NULL) {
        return (long)lwip_stats.memp[i]->used;
    }
#else
    (void)i;
#endif
    return -1;
}

/* Pool names from lwIP's own pool list, independent of LWIP_DEBUG. */
static const char *const memp_names[] = {
#define LWIP_MEMPOOL(name, num, size, desc) #name,
#include "lwip/priv/memp_std.h"
};

const char *lwipws_stats_memp_name(int i)
{
    if (i >= 0 && i < (int)MEMP_MAX) {
        return memp_names[i];
    }
    return NULL;
}

#if !NO_SYS && LWIP_TCPIP_CORE_LOCKING
void lwipws_core_lock(void) { LOCK_TCPIP_CORE(); }
void lwipws_core_unlock(void) { UNLOCK_TCPIP_CORE(); }
err_t lwipws_tcpip_callback(void (*fn)(void *), void *ctx) { return tcpip_try_callback(fn, ctx); }
#endif

/* ---- tasks (see lwipws_shim.h) ---------------------------------------------------------- */
/* Read from the preprocessor here: bindgen keeps the first definition of a macro that a
 * configuration redefines (#undef, #define), so its constants cannot be trusted for this. */
int lwipws_task_support(void) { return NO_SYS ? 0 : LWIP_TCPIP_CORE_LOCKING ? 1 : 2; }
#if !NO_SYS
#if LWIP_TCPIP_CORE_LOCKING
int lwipws_task_lock(void)
{
    LOCK_TCPIP_CORE();
    return 0;
}
void lwipws_task_unlock(void) { UNLOCK_TCPIP_CORE(); }
int lwipws_task_post(void (*fn)(void *), void *ctx)
{
    (void)fn;
    (void)ctx;
    return -1;
}
#else
struct lwipws_post {
    void (*fn)(void *);
    void *ctx;
    sys_sem_t done;
};
static void lwipws_run_posted(void *arg) /* tcpip thread */
{
    struct lwipws_post *p = (struct lwipws_post *)arg;
    p->fn(p->ctx);
    sys_sem_signal(&p->done);
}
int lwipws_task_lock(void) { return -1; }
void lwipws_task_unlock(void) {}
int lwipws_task_post(void (*fn)(void *), void *ctx)
{
    struct lwipws_post p;
#ifdef LWIP_WS_IN_TCPIP_THREAD
    if (LWIP_WS_IN_TCPIP_THREAD()) {
        fn(ctx);
        return 0;
    }
#endif
    p.fn = fn;
    p.ctx = ctx;
    if (sys_sem_new(&p.done, 0) != ERR_OK) {
        return -1;
    }
    /* The message lives on this stack: the call returns after the tcpip thread ran it. */
    err_t err = tcpip_send_msg_wait_sem(lwipws_run_posted, &p, &p.done);
    sys_sem_free(&p.done);
    return err == ERR_OK ? 0 : -1;
}
#endif
void *lwipws_sem_new(void)
{
    sys_sem_t *sem = (sys_sem_t *)mem_malloc(sizeof(sys_sem_t));
    if (sem != NULL && sys_sem_new(sem, 0) != ERR_OK) {
        mem_free(sem);
        sem = NULL;
    }
    return sem;
}
void lwipws_sem_signal(void *sem) { sys_sem_signal((sys_sem_t *)sem); }
int lwipws_sem_wait(void *sem, u32_t timeout_ms)
{
    /* 0 means "forever" to sys_arch_sem_wait: the library always bounds its waits. */
    u32_t r = sys_arch_sem_wait((sys_sem_t *)sem, timeout_ms == 0 ? 1 : timeout_ms);
    return r == SYS_ARCH_TIMEOUT ? -1 : 0;
}
void lwipws_sem_free(void *sem)
{
    sys_sem_free((sys_sem_t *)sem);
    mem_free(sem);
}
#else
int lwipws_task_lock(void) { return -1; }
void lwipws_task_unlock(void) {}
int lwipws_task_post(void (*fn)(void *), void *ctx)
{
    (void)fn;
    (void)ctx;
    return -1;
}
void *lwipws_sem_new(void) { return NULL; }
void lwipws_sem_signal(void *sem) { (void)sem; }
int lwipws_sem_wait(void *sem, u32_t timeout_ms)
{
    (void)sem;
    (void)timeout_ms;
    return -1;
}
void lwipws_sem_free(void *sem) { (void)sem; }
#endif
void lwipws_assert_core_locked(void) { LWIP_ASSERT_CORE_LOCKED(); }
