/* The POSIX simulator's netif (see port_posix.c). */
#ifndef LWIP_WS_PORT_POSIX_H
#define LWIP_WS_PORT_POSIX_H

#include "FreeRTOS.h"
#include "lwip/netif.h"

/* Adds a libslirp netif at 10.0.2.15/24 (gateway 10.0.2.2), forwards 127.0.0.1:host_port
 * to its guest_port, and starts its driver task at priority prio. Call it from a task
 * after tcpip_init has finished. 0, or -1 (message on stderr). */
int posix_slirp_start(struct netif *nif, int host_port, int guest_port, UBaseType_t prio);

/* Runs fn(arg) in lwIP's core context from a task: under the core lock, or (built with
 * LWIP_TCPIP_CORE_LOCKING 0) in the tcpip thread (tcpip_callback) while the task waits. */
void posix_in_core(void (*fn)(void *), void *arg);

#endif
