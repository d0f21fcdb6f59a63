/*
 * mbedTLS 2.28 configuration of the lwip-ws TLS firmware (Cortex-M4, lwIP's altcp_tls).
 * Built with -DMBEDTLS_CONFIG_FILE='<mbedtls_config_fw.h>' (ports/mps2-an386/tls.mk):
 * this file replaces mbedtls/config.h entirely, so only what is listed here is built.
 *
 * What it speaks: TLS 1.2 only, one cipher suite, ECDHE-ECDSA-AES128-GCM-SHA256 (every
 * browser and TLS library offers it), on the P-256 curve; X.509 certificates and keys
 * parsed from PEM or DER. Server and client (a product that only serves links no client
 * code: the linker drops what the firmware does not call).
 *
 * RAM per connection is set by the record buffers (see README "Secure WebSockets"):
 * - MBEDTLS_SSL_IN_CONTENT_LEN: the largest record a peer may send. Browsers, OpenSSL,
 *   Python never ask for the max_fragment_length extension and send records of up to
 *   16 KiB, so a server for them needs 16384 here. A device whose peers all negotiate a
 *   smaller maximum (mbedTLS clients: mbedtls_ssl_conf_max_frag_len) may lower it.
 * - MBEDTLS_SSL_OUT_CONTENT_LEN: the largest record this side sends: lowered to 4096,
 *   which every peer accepts (longer messages go out in several records).
 * - No session cache or tickets, no renegotiation, the peer's certificate not kept after
 *   the handshake, small ECC windows.
 *
 * Entropy and time: a product must provide both (README "Secure WebSockets").
 * - MBEDTLS_ENTROPY_HARDWARE_ALT: mbedtls_hardware_poll() must return bytes from the
 *   chip's true random generator. The QEMU image's is tls/entropy_test_only.c, TEST ONLY.
 * - MBEDTLS_HAVE_TIME / MBEDTLS_HAVE_TIME_DATE are off: this server checks no
 *   certificate dates (it asks no client certificate). A client that verifies servers
 *   must turn both on and give mbedTLS the wall-clock time (mbedtls_platform_set_time
 *   or MBEDTLS_PLATFORM_TIME_ALT), or expired certificates pass.
 */
#ifndef LWIP_WS_MBEDTLS_CONFIG_FW_H
#define LWIP_WS_MBEDTLS_CONFIG_FW_H

/* ---- system ------------------------------------------------------------------------ */
#define MBEDTLS_HAVE_ASM                 /* Cortex-M4 multiply-accumulate for bignums */
#define MBEDTLS_PLATFORM_C
/* mbedtls_calloc/free through mbedtls_platform_set_calloc_free: lwIP's altcp_tls memory
 * port (tls/tls_heap.c) puts every block on lwIP's heap and counts them. */
#define MBEDTLS_PLATFORM_MEMORY
#define MBEDTLS_NO_PLATFORM_ENTROPY      /* no /dev/urandom */
#define MBEDTLS_ENTROPY_HARDWARE_ALT     /* mbedtls_hardware_poll(): the chip's TRNG */
/* MBEDTLS_DEPRECATED_REMOVED stays off: lwIP 2.1.3's port uses mbedtls/net.h and
 * mbedtls_ssl_get_max_frag_len, both deprecated in 2.28. */

/* ---- randomness ------------------------------------------------------------------------ */
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_ENTROPY_FORCE_SHA256     /* no SHA-512 in the image */
#define MBEDTLS_ENTROPY_MAX_SOURCES      2
#define MBEDTLS_CTR_DRBG_C
#define MBEDTLS_HMAC_DRBG_C              /* deterministic ECDSA signatures (RFC 6979) */
#define MBEDTLS_ECDSA_DETERMINISTIC

/* ---- symmetric crypto ----------------------------------------------------------------- */
#define MBEDTLS_AES_C
#define MBEDTLS_AES_ROM_TABLES           /* tables in flash, not computed into RAM */
#define MBEDTLS_AES_FEWER_TABLES         /* 2 KiB of tables instead of 8 KiB */
#define MBEDTLS_GCM_C
#define MBEDTLS_CIPHER_C
#define MBEDTLS_MD_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA256_SMALLER

/* ---- public key ------------------------------------------------------------------------ */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_MPI_MAX_SIZE             32   /* P-256: 256-bit numbers */
#define MBEDTLS_MPI_WINDOW_SIZE          2
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM
#define MBEDTLS_ECP_WINDOW_SIZE          2
#define MBEDTLS_ECP_FIXED_POINT_OPTIM    0    /* no precomputed tables in RAM */
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_OID_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C

/* ---- TLS ------------------------------------------------------------------------------- */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_CLI_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_SSL_CIPHERSUITES         MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_SERVER_NAME_INDICATION
#define MBEDTLS_SSL_MAX_FRAGMENT_LENGTH
#define MBEDTLS_SSL_IN_CONTENT_LEN       16384
#define MBEDTLS_SSL_OUT_CONTENT_LEN      4096
/* MBEDTLS_SSL_KEEP_PEER_CERTIFICATE, MBEDTLS_SSL_RENEGOTIATION, MBEDTLS_SSL_SESSION_TICKETS,
 * MBEDTLS_SSL_CACHE_C, MBEDTLS_FS_IO, MBEDTLS_NET_C, MBEDTLS_DEBUG_C: off. */

#include "mbedtls/check_config.h"

#endif /* LWIP_WS_MBEDTLS_CONFIG_FW_H */
