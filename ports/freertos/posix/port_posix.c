/*
 * The hooks ports/freertos needs on the POSIX simulator (random numbers, assertion
 * reports) and a libslirp netif driven by its own FreeRTOS task, so that real clients on
 * 127.0.0.1 reach lwIP's tcpip thread (ports/unix/slirp_glue.c does the libslirp side).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "FreeRTOS.h"
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

/* The driver task: polls slirp's host sockets and timers under the core lock, and posts
 * the frames slirp produced to the tcpip thread (tcpip_input: its mailbox). */
static void slirp_task(void *arg)
{
    struct netif *nif = arg;
    struct slirp_glue *g = nif->state;
    static unsigned char frame[FRAME_MAX];
    for (;;) {
        LOCK_TCPIP_CORE();
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
            if (nif->input(p, nif) != ERR_OK) {
                pbuf_free(p);
            }
        }
        UNLOCK_TCPIP_CORE();
        if (rc != 0) {
            fprintf(stderr, "slirp: poll failed\n");
        }
        vTaskDelay(1);
    }
}

int posix_slirp_start(struct netif *nif, int host_port, int guest_port, UBaseType_t prio)
{
    ip4_addr_t ip, mask, gw;
    IP4_ADDR(&ip, 10, 0, 2, 15);
    IP4_ADDR(&mask, 255, 255, 255, 0);
    IP4_ADDR(&gw, 10, 0, 2, 2);
    struct slirp_glue *g = slirp_glue_new(ip4_addr_get_u32(&ip), host_port, guest_port);
    if (g == NULL) {
        return -1;
    }
    LOCK_TCPIP_CORE();
    struct netif *ok = netif_add(nif, &ip, &mask, &gw, g, slirp_netif_init, tcpip_input);
    if (ok != NULL) {
        netif_set_default(nif);
        netif_set_link_up(nif);
        netif_set_up(nif); /* gratuitous ARP: slirp learns lwIP's MAC */
    }
    UNLOCK_TCPIP_CORE();
    if (ok == NULL) {
        return -1;
    }
    if (xTaskCreate(slirp_task, "slirp", configMINIMAL_STACK_SIZE * 4, nif, prio, NULL) != pdPASS) {
        return -1;
    }
    return 0;
}
