/*
 * lwIP side of the slirp netif (see slirp_glue.c for the libslirp side). lwIP sits at
 * 10.0.2.15/24 with gateway 10.0.2.2; frames from slirp are fed to lwIP only after slirp
 * has returned, so neither stack is re-entered from the other's callbacks.
 */
#include <stdio.h>

#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/prot/ethernet.h"

#include "slirp_glue.h"
#include "unixport.h"

#if LWIP_IPV4 && LWIP_ETHERNET

#define SLIRP_FRAME_MAX 1518
#define SLIRP_FRAMES_PER_POLL 256

static err_t slirp_linkoutput(struct netif *nif, struct pbuf *p)
{
    unsigned char frame[SLIRP_FRAME_MAX];
    if (p->tot_len > sizeof frame) {
        return ERR_BUF;
    }
    u16_t len = pbuf_copy_partial(p, frame, p->tot_len, 0);
    slirp_glue_input((struct slirp_glue *)nif->state, frame, len);
    return ERR_OK;
}

int unixport_slirp_add(struct netif *nif, int host_port, int guest_port)
{
    if (nif == NULL || host_port <= 0 || host_port > 65535 || guest_port <= 0 ||
        guest_port > 65535) {
        fprintf(stderr, "unixport_slirp_add: bad arguments\n");
        return -1;
    }
    ip4_addr_t ip, mask, gw;
    IP4_ADDR(&ip, 10, 0, 2, 15);
    IP4_ADDR(&mask, 255, 255, 255, 0);
    IP4_ADDR(&gw, 10, 0, 2, 2);
    struct slirp_glue *g = slirp_glue_new(ip4_addr_get_u32(&ip), host_port, guest_port);
    if (g == NULL) {
        return -1;
    }
    static const u8_t mac[ETH_HWADDR_LEN] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
    return unixport_eth_add(nif, "sl", mac, slirp_linkoutput, g, &ip, &mask, &gw);
}

int unixport_slirp_forward(struct netif *nif, int host_port, int guest_port)
{
    if (nif == NULL || nif->state == NULL || host_port <= 0 || host_port > 65535 ||
        guest_port <= 0 || guest_port > 65535) {
        fprintf(stderr, "unixport_slirp_forward: bad arguments\n");
        return -1;
    }
    return slirp_glue_forward((struct slirp_glue *)nif->state,
                              ip4_addr_get_u32(netif_ip4_addr(nif)), host_port, guest_port);
}

int unixport_slirp_poll(struct netif *nif, int timeout_ms)
{
    struct slirp_glue *g = (struct slirp_glue *)nif->state;
    if (slirp_glue_wait(g, timeout_ms) < 0) {
        return -1;
    }
    int delivered = 0;
    unsigned char frame[SLIRP_FRAME_MAX];
    long n;
    /* lwIP's replies go to slirp immediately and may queue further frames. At most
     * SLIRP_FRAMES_PER_POLL per call: two stacks can answer each other's ACKs for ever
     * (lwIP 2.1.3 ACKs every segment while its receive window is 0, and slirp ACKs those
     * ACKs when its own window is 0 too, with no rate limit), and the program's main loop
     * must keep running; the rest waits for the next call. */
    for (int i = 0; i < SLIRP_FRAMES_PER_POLL; i++) {
        n = slirp_glue_next_frame(g, frame, sizeof frame);
        if (n < 0) {
            break;
        }
        if (n > (long)sizeof frame || n == 0) {
            continue;
        }
        delivered += unixport_netif_input(nif, frame, (u16_t)n);
    }
    return delivered;
}

#endif /* LWIP_IPV4 && LWIP_ETHERNET */
