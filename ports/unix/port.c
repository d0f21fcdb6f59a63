/*
 * lwIP system glue for Linux hosts with NO_SYS=1: sys_now() with a test offset, LWIP_RAND()'s
 * random source, one-time initialisation and the main-loop step.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/etharp.h"
#include "netif/ethernet.h"

#include <stdio.h>
#include <string.h>
#include "lwip/sys.h"
#include "lwip/timeouts.h"
#include "lwip/priv/tcp_priv.h"

#include "unixport.h"

static u32_t time_offset_ms;
static int initialised;

u32_t sys_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    u64_t ms = (u64_t)ts.tv_sec * 1000u + (u64_t)ts.tv_nsec / 1000000u;
    return (u32_t)ms + time_offset_ms;
}

/* Fills buf from the kernel: getrandom(), or /dev/urandom on kernels without it. */
static int fill_random(unsigned char *buf, size_t len)
{
    size_t got = 0;
    int tries = 0;
    while (got < len && tries++ < 100) {
        ssize_t n = getrandom(buf + got, len - got, 0);
        if (n > 0) {
            got += (size_t)n;
        } else if (n < 0 && errno == ENOSYS) {
            break;
        } else if (n < 0 && errno != EINTR) {
            return -1;
        }
    }
    if (got < len) {
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            return -1;
        }
        tries = 0;
        while (got < len && tries++ < 100) {
            ssize_t n = read(fd, buf + got, len - got);
            if (n > 0) {
                got += (size_t)n;
            } else if (n == 0 || errno != EINTR) {
                break;
            }
        }
        close(fd);
    }
    return got == len ? 0 : -1;
}

uint32_t unixport_rand(void)
{
    /* One pool per thread: no lock, and no two threads ever get the same bytes. */
    static _Thread_local unsigned char pool[4096];
    static _Thread_local size_t used = sizeof pool;
    if (used + 4 > sizeof pool) {
        if (fill_random(pool, sizeof pool) != 0) {
            fprintf(stderr, "unixport: no random source (getrandom, /dev/urandom): %s\n",
                    strerror(errno));
            abort();
        }
        used = 0;
    }
    uint32_t r;
    memcpy(&r, pool + used, sizeof r);
    /* A handed-out word is not kept in the pool. */
    memset(pool + used, 0, sizeof r);
    used += sizeof r;
    return r;
}

void unixport_advance_time(u32_t ms)
{
    time_offset_ms += ms;
}

/* libslirp writes to host sockets whose peer may be gone (a client that aborted during
 * a broadcast): that must be an EPIPE slirp handles, not a SIGPIPE that kills the
 * program. A handler the program installed itself is kept. */
static void ignore_sigpipe(void)
{
    struct sigaction old;
    if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL) {
        struct sigaction ign;
        memset(&ign, 0, sizeof ign);
        ign.sa_handler = SIG_IGN;
        sigemptyset(&ign.sa_mask);
        sigaction(SIGPIPE, &ign, NULL);
    }
}

void unixport_init(void)
{
    if (!initialised) {
        initialised = 1;
        ignore_sigpipe();
        lwip_init();
    }
}

void unixport_poll(void)
{
#if LWIP_NETIF_LOOPBACK && !LWIP_NETIF_LOOPBACK_MULTITHREADING
    netif_poll_all();
#endif
    sys_check_timeouts();
}

void unixport_run_for(u32_t ms)
{
    while (ms > 0) {
        u32_t step = ms < TCP_TMR_INTERVAL ? ms : TCP_TMR_INTERVAL;
        unixport_advance_time(step);
        unixport_poll();
        ms -= step;
    }
}

int unixport_netif_input(struct netif *nif, const void *frame, u16_t len)
{
    struct pbuf *p = pbuf_alloc(PBUF_RAW, len, PBUF_POOL);
    if (p == NULL) {
        return 0;
    }
    if (pbuf_take(p, frame, len) != ERR_OK || nif->input(p, nif) != ERR_OK) {
        pbuf_free(p);
        return 0;
    }
    return 1;
}

#if LWIP_IPV4 && LWIP_ETHERNET
/* Settings for eth_netif_init, which netif_add calls with the netif only. */
static struct {
    const char *name;
    const u8_t *mac;
    netif_linkoutput_fn linkoutput;
} eth_pending;

static err_t eth_netif_init(struct netif *nif)
{
    nif->name[0] = eth_pending.name[0];
    nif->name[1] = eth_pending.name[1];
    nif->output = etharp_output;
    nif->linkoutput = eth_pending.linkoutput;
    nif->mtu = 1500;
    nif->hwaddr_len = ETH_HWADDR_LEN;
    memcpy(nif->hwaddr, eth_pending.mac, ETH_HWADDR_LEN);
    nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
    return ERR_OK;
}

int unixport_eth_add(struct netif *nif, const char *name, const u8_t *mac,
                     netif_linkoutput_fn linkoutput, void *state, const ip4_addr_t *ip,
                     const ip4_addr_t *mask, const ip4_addr_t *gw)
{
    unixport_init();
    eth_pending.name = name;
    eth_pending.mac = mac;
    eth_pending.linkoutput = linkoutput;
    if (netif_add(nif, ip, mask, gw, state, eth_netif_init, ethernet_input) == NULL) {
        fprintf(stderr, "unixport: netif_add %s failed\n", name);
        return -1;
    }
    netif_set_default(nif);
    netif_set_link_up(nif);
    /* Sends a gratuitous ARP: peers (and slirp) learn lwIP's MAC address. */
    netif_set_up(nif);
    return 0;
}
#endif
