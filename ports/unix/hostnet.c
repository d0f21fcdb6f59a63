/*
 * hostnet: pick and drive one host netif from a text spec (see hostnet.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lwip/ip4_addr.h"
#include "lwip/netif.h"

#include "hostnet.h"
#include "unixport.h"

enum hostnet_kind { HOSTNET_NONE, HOSTNET_LOOP, HOSTNET_TAP, HOSTNET_SLIRP };

static enum hostnet_kind kind = HOSTNET_NONE;
static struct netif hostnet_netif;

static int parse_port(const char *s, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v <= 0 || v > 65535) {
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* "A.B.C.D" or "A.B.C.D/PREFIX" (default prefix 24). */
static int parse_ip_prefix(char *s, ip4_addr_t *ip, ip4_addr_t *mask)
{
    long prefix = 24;
    char *slash = strchr(s, '/');
    if (slash != NULL) {
        char *end;
        *slash = '\0';
        prefix = strtol(slash + 1, &end, 10);
        if (slash[1] == '\0' || *end != '\0' || prefix < 1 || prefix > 32) {
            return -1;
        }
    }
    if (!ip4addr_aton(s, ip)) {
        return -1;
    }
    u32_t m = prefix == 32 ? 0xffffffffu : ~(0xffffffffu >> prefix);
    ip4_addr_set_u32(mask, lwip_htonl(m));
    return 0;
}

static int start_tap(char *args)
{
    char *ifname = strtok(args, ":");
    char *lwip_ip = strtok(NULL, ":");
    char *host_ip = strtok(NULL, ":");
    ip4_addr_t ip, mask, gw;
    if (ifname == NULL || lwip_ip == NULL || host_ip == NULL || strtok(NULL, ":") != NULL ||
        parse_ip_prefix(lwip_ip, &ip, &mask) < 0 || !ip4addr_aton(host_ip, &gw)) {
        return -1;
    }
    if (unixport_tap_add(&hostnet_netif, ifname, &ip, &mask, &gw) < 0) {
        return -2;
    }
    kind = HOSTNET_TAP;
    return 0;
}

/* "HOSTPORT:GUESTPORT" followed by up to HOSTNET_MAX_FORWARDS - 1 more such pairs. */
#define HOSTNET_MAX_FORWARDS 4

static int start_slirp(char *args)
{
    int host_port[HOSTNET_MAX_FORWARDS], guest_port[HOSTNET_MAX_FORWARDS];
    int n = 0, i;
    char *hp;
    for (hp = strtok(args, ":"); hp != NULL; hp = strtok(NULL, ":")) {
        char *gp = strtok(NULL, ":");
        if (n == HOSTNET_MAX_FORWARDS || gp == NULL || parse_port(hp, &host_port[n]) < 0 ||
            parse_port(gp, &guest_port[n]) < 0) {
            return -1;
        }
        n++;
    }
    if (n == 0) {
        return -1;
    }
    if (unixport_slirp_add(&hostnet_netif, host_port[0], guest_port[0]) < 0) {
        return -2;
    }
    for (i = 1; i < n; i++) {
        if (unixport_slirp_forward(&hostnet_netif, host_port[i], guest_port[i]) < 0) {
            return -2;
        }
    }
    kind = HOSTNET_SLIRP;
    return 0;
}

int hostnet_start(const char *spec)
{
    if (kind != HOSTNET_NONE) {
        fprintf(stderr, "hostnet_start: already started\n");
        return -1;
    }
    if (spec == NULL) {
        spec = "";
    }
    unixport_init();
    char buf[256];
    if (strlen(spec) >= sizeof buf) {
        fprintf(stderr, "hostnet_start: spec too long\n");
        return -1;
    }
    strcpy(buf, spec);
    int r;
    if (strcmp(buf, "loop") == 0) {
        kind = HOSTNET_LOOP;
        r = 0;
    } else if (strncmp(buf, "tap:", 4) == 0) {
        r = start_tap(buf + 4);
    } else if (strncmp(buf, "slirp:", 6) == 0) {
        r = start_slirp(buf + 6);
    } else {
        r = -1;
    }
    if (r == -1) {
        fprintf(stderr, "hostnet_start: bad spec \"%s\" (want loop, "
                        "tap:IFNAME:LWIP_IP[/PREFIX]:HOST_IP or "
                        "slirp:HOSTPORT:GUESTPORT[:HOSTPORT:GUESTPORT...])\n",
                spec);
    }
    return r;
}

int hostnet_poll(int timeout_ms)
{
    int r = 0;
    switch (kind) {
    case HOSTNET_TAP:
        r = unixport_tap_poll(&hostnet_netif, timeout_ms);
        break;
    case HOSTNET_SLIRP:
        r = unixport_slirp_poll(&hostnet_netif, timeout_ms);
        break;
    case HOSTNET_LOOP:
    case HOSTNET_NONE:
        /* Nothing arrives from outside: yield briefly instead of spinning. */
        if (timeout_ms != 0) {
            struct timespec ts = { 0, 1000000 };
            nanosleep(&ts, NULL);
        }
        break;
    }
    unixport_poll();
    return r < 0 ? r : 0;
}
