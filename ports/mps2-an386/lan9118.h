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

/* Receive interrupt (IRQ 13 on mps2-an386), for a receive task that sleeps between
 * frames instead of polling:
 *   lan9118_irq_setup()  once after lan9118_init: the chip's IRQ line on, every source
 *                        masked; then enable IRQ 13 in the NVIC.
 *   lan9118_irq_mask()   in the interrupt handler, before waking the task (the line is a
 *                        level: masked, it drops).
 *   lan9118_irq_rearm()  in the task once lan9118_poll() found nothing: 1 when a frame
 *                        came meanwhile (poll again), else 0 with the interrupt unmasked
 *                        (sleep until the handler wakes the task). */
void lan9118_irq_setup(void);
void lan9118_irq_mask(void);
int lan9118_irq_rearm(void);

#endif /* LWIP_WS_LAN9118_H */
