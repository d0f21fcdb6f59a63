/*
 * Internal interface between the libslirp side (slirp_glue.c) and the lwIP side
 * (netif_slirp.c) of the slirp netif. Only standard C types cross it: <slirp/libslirp.h>
 * pulls in <arpa/inet.h>, whose byte-order functions clash with lwIP's macros, so no
 * file includes both.
 */
#ifndef LWIP_WS_UNIX_SLIRP_GLUE_H
#define LWIP_WS_UNIX_SLIRP_GLUE_H

#include <stddef.h>
#include <stdint.h>

struct slirp_glue;

/* Creates a slirp network 10.0.2.0/24 (host/gateway 10.0.2.2) and forwards
 * 127.0.0.1:host_port to guest_ip:guest_port (guest_ip in network byte order).
 * NULL on failure (message on stderr). */
struct slirp_glue *slirp_glue_new(uint32_t guest_ip, int host_port, int guest_port);

/* Also forwards 127.0.0.1:host_port to guest_ip:guest_port. 0, or -1 (message on
 * stderr; e.g. port in use). */
int slirp_glue_forward(struct slirp_glue *g, uint32_t guest_ip, int host_port, int guest_port);

/* Hands an Ethernet frame from the guest (lwIP) to slirp. */
void slirp_glue_input(struct slirp_glue *g, const void *frame, size_t len);

/* Waits up to timeout_ms for slirp's host sockets, then lets slirp process them and its
 * timers. Output frames are queued, not delivered. Returns 0, or -1 on error. */
int slirp_glue_wait(struct slirp_glue *g, int timeout_ms);

/* Removes the oldest queued output frame, copying up to cap bytes into buf. Returns its
 * length, or -1 when the queue is empty. */
long slirp_glue_next_frame(struct slirp_glue *g, void *buf, size_t cap);

#endif /* LWIP_WS_UNIX_SLIRP_GLUE_H */
