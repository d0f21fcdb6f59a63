/*
 * lwIP on Linux hosts (NO_SYS=1): clock, initialisation, main-loop step, and the TAP and
 * libslirp network interfaces. All functions must be called from the one thread that
 * runs lwIP.
 */
#ifndef LWIP_WS_UNIXPORT_H
#define LWIP_WS_UNIXPORT_H

#include "lwip/opt.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Milliseconds from CLOCK_MONOTONIC plus the test offset (lwIP's sys_now()). */
u32_t sys_now(void);

/* Moves sys_now() forward by ms without sleeping (tests: trigger timeouts). lwIP's TCP
 * timers count ticks, so a long jump fires each timer once: to let TCP time pass, use
 * unixport_run_for() (or advance in steps of at most 250 ms and poll between them). */
void unixport_advance_time(u32_t ms);

/* Calls lwip_init() the first time; later calls do nothing. lwIP's loopback netif then
 * serves 127.0.0.1. The first call also sets SIGPIPE to SIG_IGN (unless the program
 * installed a handler of its own): libslirp and the TAP driver write to descriptors
 * whose peer may be gone, and that must give EPIPE, not kill the program (exit 141).
 * hostnet_start() and the netif set-up functions call it. */
void unixport_init(void);

/* One main-loop step: delivers frames queued on loopback netifs (netif_poll_all) and
 * runs due timers (sys_check_timeouts). */
void unixport_poll(void);

/* Advances time by ms in 250 ms steps (TCP_TMR_INTERVAL), polling after each step. */
void unixport_run_for(u32_t ms);

/* 32 random bits from the kernel's entropy source (getrandom(), /dev/urandom if that is
 * missing), served from a per-thread pool of 4 KiB: lwipopts.h's LWIP_RAND(). Aborts
 * with a message when neither source works (weak mask keys are never handed out). A child
 * created by fork() must not use lwIP before exec: it would repeat the rest of its parent's
 * pool. Any thread may call it. */
uint32_t unixport_rand(void);

/* Copies one received Ethernet frame into a PBUF_POOL pbuf and hands it to nif->input.
 * Returns 1 when delivered, 0 when dropped (no pool buffer, or input refused it). For
 * netif drivers. */
int unixport_netif_input(struct netif *nif, const void *frame, u16_t len);

#if LWIP_IPV4
/* For Ethernet netif drivers: adds nif (name: two letters, mac: 6 bytes) with MTU 1500,
 * ARP, the given linkoutput and state, makes it the default netif and sets it up.
 * Returns 0, or -1 (message on stderr). */
int unixport_eth_add(struct netif *nif, const char *name, const u8_t *mac,
                     netif_linkoutput_fn linkoutput, void *state, const ip4_addr_t *ip,
                     const ip4_addr_t *mask, const ip4_addr_t *gw);

/* Adds a netif on the existing Linux TAP device ifname (opened IFF_TAP|IFF_NO_PI,
 * nonblocking), with the given lwIP address, netmask and gateway; makes it the default
 * netif and sets it up. Returns 0, or a negative value (message on stderr). */
int unixport_tap_add(struct netif *nif, const char *ifname, const ip4_addr_t *ip,
                     const ip4_addr_t *mask, const ip4_addr_t *gw);

/* Waits up to timeout_ms (0: do not wait, <0: forever) for frames on the TAP device
 * and feeds every available frame to nif->input. Returns the number of frames
 * delivered, or a negative value on error. */
int unixport_tap_poll(struct netif *nif, int timeout_ms);
#endif

/* Adds a netif on an in-process libslirp network (10.0.2.0/24, lwIP at 10.0.2.15,
 * gateway 10.0.2.2 = the host's 127.0.0.1) and forwards the host's
 * 127.0.0.1:host_port to lwIP's guest_port. Needs no privileges. Makes it the default
 * netif. Returns 0, or a negative value (message on stderr; e.g. port in use). */
int unixport_slirp_add(struct netif *nif, int host_port, int guest_port);

/* Forwards one more host port, 127.0.0.1:host_port, to lwIP's guest_port on a netif
 * made by unixport_slirp_add. Returns 0, or a negative value (message on stderr). */
int unixport_slirp_forward(struct netif *nif, int host_port, int guest_port);

/* Waits up to timeout_ms for host sockets and slirp timers, lets slirp handle them and
 * feeds slirp's output frames to nif->input (outside slirp's callbacks). Returns the
 * number of frames delivered, or a negative value on error. */
int unixport_slirp_poll(struct netif *nif, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* LWIP_WS_UNIXPORT_H */
