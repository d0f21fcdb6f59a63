/*
 * The hooks ports/freertos needs on the POSIX simulator (random numbers, assertion
 * reports) and a libslirp netif driven by its own FreeRTOS task, so that real clients on
 * 127.0.0.1 reach lwIP's tcpip thread (ports/unix/slirp_glue.c does the libslirp side).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "FreeRTOS.h"
#include "semphr.h"
#include "task.h"

#include "lwip/etharp.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcpip.h"
#include "netif/ethernet.h"

#include "port_posix.h"
#include "slirp_glue.h"

uint32_t sys_port_random(void)
{
    return (uint32_t)random();
}

void sys_port_assert(const char *msg, const char *file, int line)
{
    fprintf(stderr, "lwIP assertion \"%s\" failed at %s:%d\n", msg, file, line);
    fflush(NULL);
    abort();
}

void vAssertCalled(const char *file, unsigned long line)
{
    fprintf(stderr, "FreeRTOS assertion failed at %s:%lu\n", file, line);
    fflush(NULL);
    abort();
}

/* ---- libslirp netif -------------------------------------------------------------------- */
#define FRAME_MAX 1518

/* Runs in the tcpip thread (core lock held): slirp is only ever entered under that lock. */
static err_t slirp_linkoutput(struct netif *nif, struct pbuf *p)
{
    unsigned char frame[FRAME_MAX];
    if (p->tot_len > sizeof frame) {
        return ERR_BUF;
    }
    u16_t len = pbuf_copy_partial(p, frame, p->tot_len, 0);
    slirp_glue_input((struct slirp_glue *)nif->state, frame, len);
    return ERR_OK;
}

static err_t slirp_netif_init(struct netif *nif)
{
    static const u8_t mac[ETH_HWADDR_LEN] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
    nif->name[0] = 's';
    nif->name[1] = 'l';
    nif->mtu = 1500;
    nif->hwaddr_len = ETH_HWADDR_LEN;
    memcpy(nif->hwaddr, mac, ETH_HWADDR_LEN);
    nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
    nif->output = etharp_output;
    nif->linkoutput = slirp_linkoutput;
    return ERR_OK;
}

#if !LWIP_TCPIP_CORE_LOCKING
struct core_job {
    void (*fn)(void *);
    void *arg;
    SemaphoreHandle_t done;
};

static void run_job(void *p) /* tcpip thread */
{
    struct core_job *j = p;
    j->fn(j->arg);
    xSemaphoreGive(j->done);
}
#endif

void posix_in_core(void (*fn)(void *), void *arg)
{
#if LWIP_TCPIP_CORE_LOCKING
    LOCK_TCPIP_CORE();
    fn(arg);
    UNLOCK_TCPIP_CORE();
#else
    struct core_job job = { fn, arg, xSemaphoreCreateBinary() };
    if (job.done == NULL || tcpip_callback(run_job, &job) != ERR_OK) {
        fprintf(stderr, "posix_in_core: tcpip_callback failed\n");
        abort();
    }
    xSemaphoreTake(job.done, portMAX_DELAY);
    vSemaphoreDelete(job.done);
#endif
}

/* One poll of slirp's host sockets and timers, in core context; the frames slirp produced
 * go to lwIP: posted to the tcpip thread (tcpip_input) under the core lock, or straight
 * to ethernet_input when this already runs in the tcpip thread (no core locking). */
static void slirp_poll(void *arg)
{
    struct netif *nif = arg;
    struct slirp_glue *g = nif->state;
    static unsigned char frame[FRAME_MAX];
    int rc = slirp_glue_wait(g, 0);
    long n;
    while (rc == 0 && (n = slirp_glue_next_frame(g, frame, sizeof frame)) >= 0) {
        if (n == 0 || n > (long)sizeof frame) {
            continue;
        }
        struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_POOL);
        if (p == NULL) {
            continue; /* dropped: TCP retransmits */
        }
        pbuf_take(p, frame, (u16_t)n);
#if LWIP_TCPIP_CORE_LOCKING
        err_t err = nif->input(p, nif);
#else
        err_t err = ethernet_input(p, nif);
#endif
        if (err != ERR_OK) {
            pbuf_free(p);
        }
    }
    if (rc != 0) {
        fprintf(stderr, "slirp: poll failed\n");
    }
}

/* The driver task: one poll per tick, in core context (slirp is not thread-safe; the
 * tcpip thread feeds it through slirp_linkoutput). */
static void slirp_task(void *arg)
{
    for (;;) {
        posix_in_core(slirp_poll, arg);
        vTaskDelay(1);
    }
}

struct slirp_add {
    struct netif *nif;
    struct slirp_glue *g;
    ip4_addr_t ip, mask, gw;
    struct netif *ok;
};

static void slirp_add(void *arg) /* core */
{
    struct slirp_add *a = arg;
    a->ok = netif_add(a->nif, &a->ip, &a->mask, &a->gw, a->g, slirp_netif_init, tcpip_input);
    if (a->ok != NULL) {
        netif_set_default(a->nif);
        netif_set_link_up(a->nif);
        netif_set_up(a->nif); /* gratuitous ARP: slirp learns lwIP's MAC */
    }
}

int posix_slirp_start(struct netif *nif, int host_port, int guest_port, UBaseType_t prio)
{
    struct slirp_add a = { .nif = nif };
    IP4_ADDR(&a.ip, 10, 0, 2, 15);
    IP4_ADDR(&a.mask, 255, 255, 255, 0);
    IP4_ADDR(&a.gw, 10, 0, 2, 2);
    a.g = slirp_glue_new(ip4_addr_get_u32(&a.ip), host_port, guest_port);
    if (a.g == NULL) {
        return -1;
    }
    posix_in_core(slirp_add, &a);
    if (a.ok == NULL) {
        return -1;
    }
    if (xTaskCreate(slirp_task, "slirp", configMINIMAL_STACK_SIZE * 4, nif, prio, NULL) != pdPASS) {
        return -1;
    }
    return 0;
}
