/*
 * lwip-ws TLS shim: lwIP's altcp_tls (mbedTLS port) for the library, compiled only with
 * the `tls` feature (LWIP_ALTCP, LWIP_ALTCP_TLS and LWIP_ALTCP_TLS_MBEDTLS all 1).
 *
 * A lwipws_tls_config wraps lwIP's struct altcp_tls_config with what lwIP's port does not
 * keep: whether the application turned peer verification off. lwIP's port sets
 * MBEDTLS_SSL_VERIFY_OPTIONAL, so the handshake completes whatever the certificate; the
 * library checks mbedtls_ssl_get_verify_result() itself (lwipws_tls_check_peer).
 */
#ifndef LWIPWS_TLS_H
#define LWIPWS_TLS_H

#include "lwipws_shim.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lwipws_tls_config lwipws_tls_config;

/* Server: certificate chain (PEM or DER) and private key (PEM or DER, optional password).
 * PEM needs no terminating NUL. NULL on a parse error or out of memory. */
lwipws_tls_config *lwipws_tls_server(const u8_t *cert, size_t cert_len, const u8_t *key,
                                     size_t key_len, const u8_t *pass, size_t pass_len);
/* Client: CA list (PEM or DER; NULL: none, every peer fails verification), optional
 * client certificate and key (both or neither). NULL on a parse error or out of memory. */
lwipws_tls_config *lwipws_tls_client(const u8_t *ca, size_t ca_len, const u8_t *cert,
                                     size_t cert_len, const u8_t *key, size_t key_len,
                                     const u8_t *pass, size_t pass_len);
void lwipws_tls_free(lwipws_tls_config *conf);
/* Peer verification off for connections opened with conf from now on. */
void lwipws_tls_set_insecure(lwipws_tls_config *conf);
int  lwipws_tls_insecure(const lwipws_tls_config *conf);
/* lwIP's struct altcp_tls_config inside (for altcp_tls_new of the application's own). */
void *lwipws_tls_altcp_config(lwipws_tls_config *conf);
/* A new TLS pcb (altcp_tls_new). NULL: out of memory. */
lwipws_pcb *lwipws_tls_new(lwipws_tls_config *conf, u8_t ip_type);
/* SNI and the name checked against the certificate: 0, or -1 (out of memory). */
int  lwipws_tls_set_hostname(lwipws_pcb *pcb, const char *host);
/* After the handshake: 0 when the peer's chain and name verified, else mbedTLS's
 * verification flags (also remembered for lwipws_tls_last_verify_flags). */
u32_t lwipws_tls_check_peer(lwipws_pcb *pcb);
u32_t lwipws_tls_last_verify_flags(void);
/* Close a listening pcb, plain or TLS. lwIP 2.1.3's altcp_mbedtls_close sets a poll
 * callback on its inner LISTEN tcp_pcb (an assertion; without asserts, a write past the
 * smaller struct tcp_pcb_listen): this closes the inner listener first. */
err_t lwipws_tls_close_listener(lwipws_pcb *pcb);
/* mbedtls_x509_crt_verify_info for flags into buf (NUL-terminated): its length, or -1. */
int  lwipws_tls_verify_info(char *buf, size_t len, u32_t flags);

#ifdef __cplusplus
}
#endif

#endif /* LWIPWS_TLS_H */
