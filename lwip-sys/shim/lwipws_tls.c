/*
 * lwip-ws TLS shim (see lwipws_tls.h). Compiled with the firmware's lwIP configuration.
 */
#include "lwipws_tls.h"

#if LWIP_ALTCP && LWIP_ALTCP_TLS && LWIP_ALTCP_TLS_MBEDTLS

#include <stdio.h>
#include <string.h>

#include "lwip/altcp_tls.h"
#include "lwip/mem.h"
#include "lwip/priv/altcp_priv.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"

struct lwipws_tls_config {
    struct altcp_tls_config *conf;
    int insecure;
};

static u32_t last_verify_flags;

/* mbedTLS takes PEM only with its terminating NUL counted in the length: PEM without one
 * is copied into a terminated buffer (*copy, freed by the caller with mem_free). DER and
 * terminated PEM are passed as they are. */
static const u8_t *pem_terminated(const u8_t *data, size_t *len, u8_t **copy)
{
    static const char begin[] = "-----BEGIN";
    *copy = NULL;
    if (data == NULL || *len == 0 || data[*len - 1] == 0 || *len < sizeof begin - 1 ||
        memcmp(data, begin, sizeof begin - 1) != 0 || *len + 1 > (size_t)0x7fffffff) {
        return data;
    }
    *copy = (u8_t *)mem_malloc((mem_size_t)(*len + 1));
    if (*copy == NULL) {
        return NULL;
    }
    memcpy(*copy, data, *len);
    (*copy)[*len] = 0;
    *len += 1;
    return *copy;
}

/* lwIP 2.1.3's altcp_tls_free_config frees the certificates and the key, never the
 * mbedtls_ssl_config itself: a server configuration's certificate/key list node and
 * default DHM parameters (3 blocks, 288 bytes with mbedTLS 2.28) would leak with every
 * configuration. That mbedtls_ssl_config is the first member of lwIP's struct
 * altcp_tls_config (altcp_tls_mbedtls.c); it only points at the certificates and key,
 * which lwIP frees next. A second mbedtls_ssl_config_free (an lwIP that does it itself)
 * finds only NULLs. */
static void free_altcp_config(struct altcp_tls_config *conf)
{
    mbedtls_ssl_config_free((mbedtls_ssl_config *)(void *)conf);
    altcp_tls_free_config(conf);
}

static lwipws_tls_config *wrap(struct altcp_tls_config *conf)
{
    lwipws_tls_config *w;
    if (conf == NULL) {
        return NULL;
    }
    w = (lwipws_tls_config *)mem_malloc(sizeof *w);
    if (w == NULL) {
        free_altcp_config(conf);
        return NULL;
    }
    w->conf = conf;
    w->insecure = 0;
    return w;
}

lwipws_tls_config *lwipws_tls_server(const u8_t *cert, size_t cert_len, const u8_t *key,
                                     size_t key_len, const u8_t *pass, size_t pass_len)
{
    u8_t *cert_copy, *key_copy;
    struct altcp_tls_config *conf = NULL;
    const u8_t *c = pem_terminated(cert, &cert_len, &cert_copy);
    const u8_t *k = pem_terminated(key, &key_len, &key_copy);
    if (c != NULL && k != NULL) {
        conf = altcp_tls_create_config_server_privkey_cert(k, key_len, pass, pass_len, c,
                                                           cert_len);
    }
    if (cert_copy != NULL) {
        mem_free(cert_copy);
    }
    if (key_copy != NULL) {
        mem_free(key_copy);
    }
    return wrap(conf);
}

lwipws_tls_config *lwipws_tls_client(const u8_t *ca, size_t ca_len, const u8_t *cert,
                                     size_t cert_len, const u8_t *key, size_t key_len,
                                     const u8_t *pass, size_t pass_len)
{
    u8_t *ca_copy, *cert_copy = NULL, *key_copy = NULL;
    struct altcp_tls_config *conf = NULL;
    const u8_t *a = pem_terminated(ca, &ca_len, &ca_copy);
    if (ca != NULL && a == NULL) {
        return NULL;
    }
    if (cert != NULL && key != NULL) {
        const u8_t *c = pem_terminated(cert, &cert_len, &cert_copy);
        const u8_t *k = pem_terminated(key, &key_len, &key_copy);
        if (c != NULL && k != NULL) {
            conf = altcp_tls_create_config_client_2wayauth(a, ca_len, k, key_len, pass,
                                                           pass_len, c, cert_len);
        }
    } else {
        conf = altcp_tls_create_config_client(a, ca_len);
    }
    if (ca_copy != NULL) {
        mem_free(ca_copy);
    }
    if (cert_copy != NULL) {
        mem_free(cert_copy);
    }
    if (key_copy != NULL) {
        mem_free(key_copy);
    }
    return wrap(conf);
}

void lwipws_tls_free(lwipws_tls_config *conf)
{
    if (conf != NULL) {
        free_altcp_config(conf->conf);
        mem_free(conf);
        /* The shared entropy and DRBG go with the last configuration. */
        altcp_tls_free_entropy();
    }
}

void lwipws_tls_set_insecure(lwipws_tls_config *conf) { conf->insecure = 1; }
int lwipws_tls_insecure(const lwipws_tls_config *conf) { return conf->insecure; }
void *lwipws_tls_altcp_config(lwipws_tls_config *conf) { return conf->conf; }

lwipws_pcb *lwipws_tls_new(lwipws_tls_config *conf, u8_t ip_type)
{
    return altcp_tls_new(conf->conf, ip_type);
}

int lwipws_tls_set_hostname(lwipws_pcb *pcb, const char *host)
{
    mbedtls_ssl_context *ssl = (mbedtls_ssl_context *)altcp_tls_context(pcb);
    if (ssl == NULL || mbedtls_ssl_set_hostname(ssl, host) != 0) {
        return -1;
    }
    return 0;
}

err_t lwipws_tls_close_listener(lwipws_pcb *pcb)
{
    if (pcb == NULL) {
        return ERR_VAL;
    }
    if (pcb->inner_conn != NULL) {
        /* A layered (TLS) listener: altcp_tcp closes a LISTEN pcb without touching its
         * poll callback; then the TLS layer's close has only its own state to free. */
        err_t err;
        altcp_arg(pcb->inner_conn, NULL);
        altcp_accept(pcb->inner_conn, NULL);
        err = altcp_close(pcb->inner_conn);
        if (err != ERR_OK) {
            return err;
        }
        pcb->inner_conn = NULL;
    }
    return altcp_close(pcb);
}

u32_t lwipws_tls_check_peer(lwipws_pcb *pcb)
{
    mbedtls_ssl_context *ssl = (mbedtls_ssl_context *)altcp_tls_context(pcb);
    u32_t flags = ssl == NULL ? (u32_t)-1 : (u32_t)mbedtls_ssl_get_verify_result(ssl);
    if (flags != 0) {
        last_verify_flags = flags;
    }
    return flags;
}

u32_t lwipws_tls_last_verify_flags(void) { return last_verify_flags; }

int lwipws_tls_verify_info(char *buf, size_t len, u32_t flags)
{
    int n;
    if (buf == NULL || len == 0) {
        return -1;
    }
    buf[0] = 0;
    if (flags == (u32_t)-1) {
        n = snprintf(buf, len, "no TLS session\n");
    } else {
        n = mbedtls_x509_crt_verify_info(buf, len, "", flags);
    }
    if (n < 0) {
        return -1;
    }
    /* One line per failed check; drop the last newline. */
    if (n > 0 && (size_t)n < len && buf[n - 1] == '\n') {
        buf[--n] = 0;
    }
    return n;
}

#endif /* LWIP_ALTCP && LWIP_ALTCP_TLS && LWIP_ALTCP_TLS_MBEDTLS */
