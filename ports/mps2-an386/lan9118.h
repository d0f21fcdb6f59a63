/*
 * Polling lwIP netif driver for the SMSC LAN9118 as modelled by QEMU (mps2-an386).
 */
#ifndef LWIP_WS_LAN9118_H
#define LWIP_WS_LAN9118_H

#include "lwip/err.h"
#include "lwip/netif.h"

/* netif_add() init function: checks the chip, resets it, sets the MAC address from
 * netif->hwaddr, enables TX and RX. */
err_t lan9118_init(struct netif *netif);

/* Moves every received frame into lwIP (netif->input). Returns the number of frames,
 * or -1 when the chip reports an error that cannot be recovered. */
int lan9118_poll(struct netif *netif);

#endif /* LWIP_WS_LAN9118_H */
