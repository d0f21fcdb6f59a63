/*
 * TLS firmware: the page and a WebSocket echo served as https:// and wss:// on lwIP's
 * port 443 (WSListener_listenTls, lwIP's altcp_tls, mbedTLS 2.28 built with
 * tls/mbedtls_config_fw.h).
 *   GET /      the page (examples/chat/index.html)
 *   GET /echo  WebSocket echo: every message goes back with its type; the text
 *              "close:CODE" makes the server close with CODE
 * A peer has 3 s for the TLS handshake and its request (WSListener_setHandshakeTimeout).
 * The certificate and key are compiled in (gen/tls_cert.h, made by tls.mk from
 * TLS_CERT_DIR: test certificates only). Randomness comes from tls/entropy_test_only.c.
 *
 * Whenever the last open TLS connection has ended it prints (tls/tls_port.h)
 *   tls: connection peak P B, held H B, handshake T us (N done)[, C connections at once]
 * P: the most mbedTLS + altcp_tls bytes held at once above the idle level (handshake
 * included); H: what the last upgraded connection held once open (at its WebSocket
 * upgrade, after the handshake; 0: no upgrade); T: virtual time spent in
 * mbedtls_ssl_handshake (with QEMU's -icount shift=0: thousands of instructions);
 * C: connections that overlapped (P is then theirs together). A 'q' on the console stops it (exit 0
 * when mbedTLS's heap is back to zero).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "echo_frames.h"
#include "hostnet.h"
#include "lwip_ws.h"
#include "mbedtls/version.h"
#include "mps2.h"
#include "page.h"     /* index_html[], index_html_len */
#include "tls_cert.h" /* server_pem[], server_key[] and their lengths */
#include "tls_port.h"

#define SLOTS 4
#define PORT 443
#define HANDSHAKE_MS 3000

static WSListener listener;
static WSTlsConfig *config;
static WSSCB cb;
static WSS slots[SLOTS];
static unsigned char busy[SLOTS];
static size_t held; /* the bytes the last upgraded connection held at its upgrade */

static void onClose(WSSCB *o, WSS *wss, int status)
{
    (void)o;
    (void)status;
    busy[wss - slots] = 0;
}

/* An answer that could not be sent is reported on the console. */
static void answered(const char *what, int rc)
{
    if (rc != LWIP_WS_OK) {
        printf("tls: %s: %s\n", what, WSS_errorText(rc));
    }
}

static void upgrade(HttpRequest *req)
{
    int i;
    for (i = 0; i < SLOTS && busy[i]; i++) {
    }
    if (i == SLOTS) {
        answered("answer 503", HttpRequest_reject(req, 503));
        return;
    }
    if (WSS_upgrade(&slots[i], req) == LWIP_WS_OK) {
        busy[i] = 1;
        held = tls_port_busy_bytes();
    }
}

static void onRequest(WSListener *l, HttpRequest *req)
{
    const char *path = HttpRequest_getPath(req);
    (void)l;
    if (strcmp(path, "/echo") == 0) {
        if (HttpRequest_isWebSocket(req)) {
            upgrade(req);
        } else {
            answered("answer 400", HttpRequest_reject(req, 400));
        }
    } else if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0) {
        answered("send the page",
                 HttpRequest_respondStatic(req, 200, "text/html; charset=utf-8", index_html,
                                           (int)index_html_len));
    } else {
        answered("answer 404", HttpRequest_reject(req, 404));
    }
}

/* Once no TLS connection is open, the figures of those since the last report. */
static void report(void)
{
    TlsPeriod p;
    if (!tls_port_take_period(&p)) {
        return;
    }
    printf("tls: connection peak %lu B, held %lu B, handshake %lu us (%u done)",
           (unsigned long)p.peakBytes, (unsigned long)held,
           (unsigned long)(p.handshakeTicks / 25u), p.handshakes);
    if (p.connections > 1) {
        printf(", %u connections at once", p.connections);
    }
    if (p.keptBytes != 0) {
        printf(", %lu B kept", (unsigned long)p.keptBytes);
    }
    printf("\n");
    fflush(stdout);
    held = 0;
}

static int openCount(void)
{
    int i, n = 0;
    for (i = 0; i < SLOTS; i++) {
        n += busy[i];
    }
    return n;
}

static int serve(void)
{
    TlsHeap h;
    int rc;
    rc = WSTls_serverConfig(server_pem, (int)server_pem_len, server_key, (int)server_key_len,
                            NULL, &config);
    if (rc != LWIP_WS_OK) {
        printf("tls: server configuration: %s\n", WSS_errorText(rc));
        return 1;
    }
    tls_port_heap(&h);
    printf("tls: configuration %lu B in %lu blocks\n", (unsigned long)h.liveBytes,
           (unsigned long)h.liveBlocks);
    rc = WSListener_constructor(&listener, onRequest);
    if (rc == LWIP_WS_OK) { /* TLS handshake + request within HANDSHAKE_MS, or dropped */
        rc = WSListener_setHandshakeTimeout(&listener, HANDSHAKE_MS);
    }
    if (rc == LWIP_WS_OK) {
        rc = WSListener_listenTls(&listener, NULL, PORT, config);
    }
    if (rc != LWIP_WS_OK) {
        printf("tls: cannot listen on port %d: %s\n", PORT, WSS_errorText(rc));
        return 1;
    }
    tls_port_set_idle();
    tls_port_heap(&h);
    printf("tls: listening, %lu B in %lu blocks\n", (unsigned long)h.liveBytes,
           (unsigned long)h.liveBlocks);
    printf("ready https://10.0.3.15:%d/ wss://10.0.3.15:%d/echo\n", PORT, PORT);
    while (!stop) {
        if (hostnet_poll(10) < 0) {
            return 1;
        }
        report();
    }
    return 0;
}

/* Closes the listener and the connections (up to 2 s for their close handshakes). */
static void shutdownAll(void)
{
    int i, rounds;
    WSListener_destructor(&listener);
    for (i = 0; i < SLOTS; i++) {
        if (busy[i] && WSS_close(&slots[i], 1001) != LWIP_WS_OK) {
            WSS_destructor(&slots[i]);
            busy[i] = 0;
        }
    }
    for (rounds = 0; rounds < 200 && openCount() > 0; rounds++) {
        hostnet_poll(10);
    }
    for (i = 0; i < SLOTS; i++) {
        WSS_destructor(&slots[i]);
    }
}

int mps2_main(void)
{
    TlsHeap h;
    int i, rc;
    printf("mps2-an386: https + wss on lwIP altcp_tls + mbedTLS " MBEDTLS_VERSION_STRING "\n");
    printf("tls: TEST-ONLY entropy (the host's, through semihosting): not for products\n");
    signal(SIGTERM, onSignal);
    WSSCB_constructor(&cb, onFrame, onClose, NULL);
    for (i = 0; i < SLOTS; i++) {
        if (WSS_constructor(&slots[i], &cb, 1024, 4096) != LWIP_WS_OK) {
            return 1;
        }
    }
    if (hostnet_start("lan9118") < 0) {
        return 1;
    }
    rc = serve();
    shutdownAll();
    WSTls_freeConfig(config);
    tls_port_heap(&h);
    printf("tls: stopped, mbedTLS heap %lu B in %lu blocks, %lu refused\n",
           (unsigned long)h.liveBytes, (unsigned long)h.liveBlocks, (unsigned long)h.failed);
    return rc != 0 || h.liveBytes != 0 || h.liveBlocks != 0;
}
