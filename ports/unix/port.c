/*
 * lwIP system glue for Linux hosts with NO_SYS=1: sys_now() with a test offset, one-time
 * initialisation and the main-loop step.
 */
#include <time.h>

#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
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

void unixport_advance_time(u32_t ms)
{
    time_offset_ms += ms;
}

void unixport_init(void)
{
    if (!initialised) {
        initialised = 1;
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
