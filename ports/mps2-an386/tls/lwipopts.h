/*
 * lwIP configuration of the TLS firmware image (tls.mk): the plain image's
 * (../include/lwipopts.h) with lwIP's altcp layer and its mbedTLS port on.
 *
 * TLS needs, besides the plain settings:
 * - LWIP_ALTCP, LWIP_ALTCP_TLS, LWIP_ALTCP_TLS_MBEDTLS: the library then talks to
 *   lwIP's altcp API, and a TLS pcb is an altcp pcb over a plain one (two ALTCP_PCBs).
 * - TCP_WND at least mbedTLS's largest incoming record (MBEDTLS_SSL_IN_CONTENT_LEN plus
 *   its header and tag), or a full record never fits the window and the connection
 *   stalls; lwIP's port warns at configuration time when it is smaller.
 * - MEM_SIZE for mbedTLS's blocks: tls/tls_port.c puts them on lwIP's heap (about
 *   26 KiB per connection with mbedtls_config_fw.h, 1.2 KiB for the configuration).
 */
#ifndef LWIP_WS_MPS2_TLS_LWIPOPTS_H
#define LWIP_WS_MPS2_TLS_LWIPOPTS_H

/* lwIP's heap: the plain image's 96 KiB plus 8 TLS connections. */
#define MEM_SIZE                        (320 * 1024)

#include "../include/lwipopts.h"

#undef LWIP_ALTCP
#define LWIP_ALTCP                      1
#define LWIP_ALTCP_TLS                  1
#define LWIP_ALTCP_TLS_MBEDTLS          1
/* Each TLS connection holds two altcp pcbs (TLS over TCP); listeners one or two. */
#define MEMP_NUM_ALTCP_PCB              (2 * MEMP_NUM_TCP_PCB + 2 * MEMP_NUM_TCP_PCB_LISTEN)

/* A 16 KiB record (16384 + 29 bytes) must fit the receive window. */
#undef TCP_WND
#define TCP_WND                         (12 * TCP_MSS)

#endif /* LWIP_WS_MPS2_TLS_LWIPOPTS_H */
