/*
 * lwIP netif on a Linux TAP device: lwIP talks Ethernet with the host kernel's stack.
 * The device must exist (e.g. `ip tuntap add dev NAME mode tap`); opening it needs
 * access to /dev/net/tun (root).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/if.h>
#include <linux/if_tun.h>

#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/prot/ethernet.h"

#include "unixport.h"

#if LWIP_IPV4 && LWIP_ETHERNET

#define TAP_FRAME_MAX 1518 /* 1500 MTU + Ethernet header (+ VLAN tag) */
#define TAP_POLL_BURST 256 /* frames per poll call at most, so timers still run */

struct tap_state {
    int fd;
    char ifname[IFNAMSIZ];
};

static err_t tap_linkoutput(struct netif *nif, struct pbuf *p)
{
    struct tap_state *st = (struct tap_state *)nif->state;
    unsigned char frame[TAP_FRAME_MAX];
    if (p->tot_len > sizeof frame) {
        return ERR_BUF;
    }
    u16_t len = pbuf_copy_partial(p, frame, p->tot_len, 0);
    ssize_t n = write(st->fd, frame, len);
    if (n != (ssize_t)len) {
        /* The kernel queue is full or the device went away: drop; TCP retransmits. */
        return ERR_IF;
    }
    return ERR_OK;
}

static int tap_open(const char *ifname)
{
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "unixport_tap_add: /dev/net/tun: %s\n", strerror(errno));
        return -1;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        fprintf(stderr, "unixport_tap_add: TUNSETIFF %s: %s\n", ifname, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int unixport_tap_add(struct netif *nif, const char *ifname, const ip4_addr_t *ip,
                     const ip4_addr_t *mask, const ip4_addr_t *gw)
{
    if (nif == NULL || ifname == NULL || strlen(ifname) >= IFNAMSIZ) {
        fprintf(stderr, "unixport_tap_add: bad arguments\n");
        return -1;
    }
    struct tap_state *st = calloc(1, sizeof *st);
    if (st == NULL) {
        return -1;
    }
    st->fd = tap_open(ifname);
    if (st->fd < 0) {
        free(st);
        return -1;
    }
    strncpy(st->ifname, ifname, IFNAMSIZ - 1);
    /* Locally administered unicast address, random so that several runs can coexist. */
    u8_t mac[ETH_HWADDR_LEN] = { 0x02 };
    for (int i = 1; i < ETH_HWADDR_LEN; i++) {
        mac[i] = (u8_t)LWIP_RAND();
    }
    if (unixport_eth_add(nif, "tp", mac, tap_linkoutput, st, ip, mask, gw) < 0) {
        close(st->fd);
        free(st);
        return -1;
    }
    return 0;
}

int unixport_tap_poll(struct netif *nif, int timeout_ms)
{
    struct tap_state *st = (struct tap_state *)nif->state;
    struct pollfd pfd = { .fd = st->fd, .events = POLLIN };
    int r = poll(&pfd, 1, timeout_ms);
    if (r < 0) {
        return errno == EINTR ? 0 : -1;
    }
    if (r == 0) {
        return 0;
    }
    if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)) {
        fprintf(stderr, "unixport_tap_poll: %s: device error\n", st->ifname);
        return -1;
    }
    int delivered = 0;
    for (int i = 0; i < TAP_POLL_BURST; i++) {
        unsigned char frame[TAP_FRAME_MAX];
        ssize_t n = read(st->fd, frame, sizeof frame);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                break;
            }
            fprintf(stderr, "unixport_tap_poll: read %s: %s\n", st->ifname, strerror(errno));
            return -1;
        }
        if (n == 0) {
            break;
        }
        delivered += unixport_netif_input(nif, frame, (u16_t)n);
    }
    return delivered;
}

#endif /* LWIP_IPV4 && LWIP_ETHERNET */
