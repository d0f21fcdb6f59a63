/*
 * Host networking for C programs (tests, demos) in one call: lwIP's loopback only, a
 * Linux TAP device, or an in-process libslirp network with a host port forward.
 */
#ifndef LWIP_WS_HOSTNET_H
#define LWIP_WS_HOSTNET_H

#ifdef __cplusplus
extern "C" {
#endif

/* Initialises lwIP (once) and attaches the network described by spec:
 *   "loop"                          127.0.0.1 on lwIP's loopback netif only
 *   "tap:IFNAME:LWIP_IP:HOST_IP"    the existing TAP device IFNAME (root); lwIP at
 *                                   LWIP_IP/24 (or LWIP_IP/PREFIX), gateway HOST_IP
 *   "slirp:HOSTPORT:GUESTPORT"      rootless: the host's 127.0.0.1:HOSTPORT reaches lwIP
 *                                   (10.0.2.15) at GUESTPORT; up to 3 more
 *                                   ":HOSTPORT:GUESTPORT" pairs forward more ports
 * Returns 0, or a negative value with a message on stderr. Call at most once. */
int hostnet_start(const char *spec);

/* Waits up to timeout_ms for network input on the chosen netif, feeds it to lwIP and
 * runs lwIP's timers and loopback (unixport_poll). Call it in the main loop. Returns 0,
 * or a negative value on a fatal netif error. */
int hostnet_poll(int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* LWIP_WS_HOSTNET_H */
