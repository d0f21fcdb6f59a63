/*
 * hostnet.h (ports/unix/include) for the firmware: the same two calls the host demo
 * uses, so examples/chat builds unchanged. The network is the board's LAN9118 with a
 * static address (QEMU user networking: 10.0.3.0/24, gateway 10.0.3.2).
 *
 *   "lan9118"    lwIP at MPS2_IP (default 10.0.3.15/24, gateway 10.0.3.2)
 *   "slirp:HOSTPORT:80"  the same; names QEMU's user-mode network (slirp) and the host
 *                port it forwards, so that examples/chat prints the URL the host opens
 *
 * hostnet_poll() also reads the console: a 'q' raises SIGTERM, so a program that
 * stops on SIGTERM (examples/chat) shuts down cleanly and its exit code ends QEMU.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "hostnet.h"
#include "lan9118.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/timeouts.h"
#include "mps2.h"
#include "netif/ethernet.h"

#ifndef MPS2_IP
#define MPS2_IP      "10.0.3.15"
#endif
#ifndef MPS2_NETMASK
#define MPS2_NETMASK "255.255.255.0"
#endif
#ifndef MPS2_GATEWAY
#define MPS2_GATEWAY "10.0.3.2"
#endif

static struct netif nic;
static int started;

int hostnet_start(const char *spec)
{
    ip4_addr_t ip, mask, gw;
    static const u8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    if (spec == NULL || (strcmp(spec, "lan9118") != 0 && strncmp(spec, "slirp:", 6) != 0)) {
        fprintf(stderr,
                "hostnet: unknown network \"%s\" (this board has \"lan9118\" and "
                "\"slirp:HOSTPORT:80\")\n",
                spec != NULL ? spec : "");
        return -1;
    }
    if (started) {
        fprintf(stderr, "hostnet: already started\n");
        return -1;
    }
    if (!ip4addr_aton(MPS2_IP, &ip) || !ip4addr_aton(MPS2_NETMASK, &mask) ||
        !ip4addr_aton(MPS2_GATEWAY, &gw)) {
        fprintf(stderr, "hostnet: bad address settings\n");
        return -1;
    }
    lwip_init();
    memcpy(nic.hwaddr, mac, sizeof mac);
    if (netif_add(&nic, &ip, &mask, &gw, NULL, lan9118_init, ethernet_input) == NULL) {
        fprintf(stderr, "hostnet: LAN9118 not found or not responding\n");
        return -1;
    }
    netif_set_default(&nic);
    netif_set_up(&nic); /* sends a gratuitous ARP: slirp learns our MAC */
    started = 1;
    printf("hostnet: lan9118 up at %s\n", MPS2_IP);
    return 0;
}

int hostnet_poll(int timeout_ms)
{
    uint32_t start = mps2_millis();
    if (!started) {
        return -1;
    }
    for (;;) {
        int frames = lan9118_poll(&nic);
        int c = mps2_getc();
        sys_check_timeouts();
        if (c == 'q') {
            raise(SIGTERM);
            return 0;
        }
        if (frames < 0) {
            return -1;
        }
        if (frames > 0 || (int32_t)(mps2_millis() - start) >= timeout_ms) {
            return 0;
        }
        mps2_idle(); /* until the next SysTick (1 ms) */
    }
}
