/*
 * lwIP netif driver for the SMSC LAN9118 as modelled by QEMU (mps2-an386, base
 * 0x40200000). lan9118_poll() drains the RX status FIFO; called in a loop (bare metal) or
 * from a task woken by the chip's receive interrupt (IRQ 13: lan9118_irq_*).
 *
 * Model quirks: RX is dropped until MAC_CR.RXEN is set; the reset default is
 * promiscuous; the RX status length includes the 4-byte FCS; touching an unimplemented
 * register offset stops QEMU, so only the registers below are used.
 */
#include <stdint.h>
#include <string.h>

#include "lan9118.h"
#include "lwip/etharp.h"
#include "lwip/pbuf.h"
#include "lwip/snmp.h"
#include "netif/ethernet.h"

#define BASE            0x40200000u
#define REG(off)        (*(volatile uint32_t *)(BASE + (off)))
#define RX_DATA_FIFO    REG(0x00)
#define TX_DATA_FIFO    REG(0x20)
#define RX_STATUS_FIFO  REG(0x40)
#define TX_STATUS_FIFO  REG(0x48)
#define ID_REV          REG(0x50)
#define IRQ_CFG         REG(0x54)
#define INT_STS         REG(0x58)
#define INT_EN          REG(0x5C)
#define BYTE_TEST       REG(0x64)
#define TX_CFG          REG(0x70)
#define HW_CFG          REG(0x74)
#define RX_FIFO_INF     REG(0x7C)
#define TX_FIFO_INF     REG(0x80)
#define PMT_CTRL        REG(0x84)
#define MAC_CSR_CMD     REG(0xA4)
#define MAC_CSR_DATA    REG(0xA8)

#define HW_CFG_SRST     (1u << 0)
#define IRQ_CFG_EN      (1u << 8)
#define IRQ_CFG_POL     (1u << 4) /* active high */
#define IRQ_CFG_TYPE    (1u << 0) /* push-pull */
#define INT_RSFL        (1u << 3) /* RX status FIFO level: a frame arrived */
#define PMT_CTRL_READY  (1u << 0)
#define TX_CFG_TX_ON    (1u << 1)
#define CSR_BUSY        (1u << 31)
#define CSR_READ        (1u << 30)
#define MAC_CR          1u
#define MAC_ADDRH       2u
#define MAC_ADDRL       3u
#define MAC_CR_RXEN     (1u << 2)
#define MAC_CR_TXEN     (1u << 3)
#define MAC_CR_FDPX     (1u << 20)
#define RX_STS_ES       (1u << 15)
#define TX_CMD_A_FIRST  (1u << 13)
#define TX_CMD_A_LAST   (1u << 12)
#define SPIN_LIMIT      100000u

static int csr_wait(void)
{
    uint32_t n = 0;
    while ((MAC_CSR_CMD & CSR_BUSY) != 0) {
        if (++n > SPIN_LIMIT) {
            return -1;
        }
    }
    return 0;
}

static int mac_write(uint32_t reg, uint32_t value)
{
    MAC_CSR_DATA = value;
    MAC_CSR_CMD = CSR_BUSY | reg;
    return csr_wait();
}

static err_t lan9118_output(struct netif *netif, struct pbuf *p)
{
    uint32_t len = p->tot_len, word = 0, fill = 0, n;
    struct pbuf *q;
    (void)netif;
    if (len > 1514 || (TX_FIFO_INF & 0xFFFFu) < len + 8u) {
        return ERR_MEM; /* the 4.5 KiB TX FIFO is full: lwIP retransmits */
    }
    TX_DATA_FIFO = TX_CMD_A_FIRST | TX_CMD_A_LAST | len; /* command A: one segment */
    TX_DATA_FIFO = (len << 16) | len;                    /* command B: tag, length */
    for (q = p; q != NULL; q = q->next) {
        const uint8_t *b = q->payload;
        for (n = 0; n < q->len; n++) {
            word |= (uint32_t)b[n] << (8 * fill);
            if (++fill == 4) {
                TX_DATA_FIFO = word;
                word = 0;
                fill = 0;
            }
        }
    }
    if (fill != 0) {
        TX_DATA_FIFO = word;
    }
    while (((TX_FIFO_INF >> 16) & 0xFFu) != 0) {
        (void)TX_STATUS_FIFO; /* drop TX statuses so their FIFO never fills */
    }
    return ERR_OK;
}

err_t lan9118_init(struct netif *netif)
{
    const uint8_t *m = netif->hwaddr;
    uint32_t n = 0;
    if (BYTE_TEST != 0x87654321u || (ID_REV >> 16) != 0x0118u) {
        return ERR_IF;
    }
    HW_CFG = HW_CFG_SRST;
    while ((HW_CFG & HW_CFG_SRST) != 0 || (PMT_CTRL & PMT_CTRL_READY) == 0) {
        if (++n > SPIN_LIMIT) {
            return ERR_IF;
        }
    }
    if (mac_write(MAC_ADDRL, (uint32_t)m[0] | (uint32_t)m[1] << 8 | (uint32_t)m[2] << 16 |
                                 (uint32_t)m[3] << 24) != 0 ||
        mac_write(MAC_ADDRH, (uint32_t)m[4] | (uint32_t)m[5] << 8) != 0 ||
        /* Not promiscuous: our address and broadcast only. */
        mac_write(MAC_CR, MAC_CR_TXEN | MAC_CR_RXEN | MAC_CR_FDPX) != 0) {
        return ERR_IF;
    }
    TX_CFG = TX_CFG_TX_ON;
    netif->name[0] = 'e';
    netif->name[1] = 'n';
    netif->mtu = 1500;
    netif->hwaddr_len = ETH_HWADDR_LEN;
    netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET |
                   NETIF_FLAG_LINK_UP;
    netif->output = etharp_output;
    netif->linkoutput = lan9118_output;
    return ERR_OK;
}

int lan9118_poll(struct netif *netif)
{
    int frames = 0;
    while (((RX_FIFO_INF >> 16) & 0xFFu) != 0 && frames < 32) {
        uint32_t status = RX_STATUS_FIFO;
        uint32_t len = (status >> 16) & 0x3FFFu; /* includes the FCS */
        uint32_t words = (len + 3u) / 4u, i, w = 0;
        struct pbuf *p = NULL, *q;
        if ((status & RX_STS_ES) == 0 && len > 4u && len <= 1522u) {
            p = pbuf_alloc(PBUF_RAW, (u16_t)(len - 4u), PBUF_POOL);
        }
        if (p == NULL) { /* error, runt or no pbuf: discard the frame's words */
            for (i = 0; i < words; i++) {
                (void)RX_DATA_FIFO;
            }
            frames++;
            continue;
        }
        i = 0; /* bytes taken from the FIFO */
        for (q = p; q != NULL; q = q->next) {
            uint8_t *b = q->payload;
            u16_t k;
            for (k = 0; k < q->len; k++, i++) {
                if (i % 4u == 0) {
                    w = RX_DATA_FIFO;
                }
                b[k] = (uint8_t)(w >> (8 * (i % 4u)));
            }
        }
        for (i = (i + 3u) / 4u; i < words; i++) {
            (void)RX_DATA_FIFO; /* the rest of the FCS */
        }
        if (netif->input(p, netif) != ERR_OK) {
            pbuf_free(p);
        }
        frames++;
    }
    return frames;
}

void lan9118_irq_setup(void)
{
    INT_EN = 0;
    INT_STS = INT_RSFL;
    IRQ_CFG = IRQ_CFG_EN | IRQ_CFG_POL | IRQ_CFG_TYPE;
}

void lan9118_irq_mask(void)
{
    INT_EN = 0;
}

int lan9118_irq_rearm(void)
{
    /* Acknowledge first, then look: a frame that arrives after the acknowledgement sets
     * the level bit again and interrupts as soon as it is unmasked. */
    INT_STS = INT_RSFL;
    if (((RX_FIFO_INF >> 16) & 0xFFu) != 0) {
        return 1;
    }
    INT_EN = INT_RSFL;
    return 0;
}
