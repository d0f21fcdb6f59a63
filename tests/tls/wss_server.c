/*
 * wss_server SPEC CERTDIR [--port N] [--handshake-timeout MS] [--seconds N]
 *
 * The TLS test server: one TLS port (WSListener_listenTls, certificate CERTDIR/server.pem
 * and key CERTDIR/server.key) serves
 *   GET /      a page that opens wss://<its host>/echo, sends "hello from the page" and
 *              shows the echo (for a browser)
 *   GET /echo  echo: every message goes back with its type; the text "close:CODE" makes
 *              the server close the connection with CODE instead
 * on lwIP over SPEC (hostnet.h: "slirp:HOSTPORT:GUESTPORT"). Prints "ready", then one line
 * per event ("open SLOT", "close SLOT STATUS").
 *
 * SIGUSR1: with no connection open, lets lwIP's clock run 130 s (TIME_WAIT, timers) and
 * compares lwIP's heap and pools and mbedTLS's heap blocks (mbedtls_count.c) with the
 * baseline taken right after listening: prints "memory-check ok" or the differences and
 * "memory-check FAILED".
 * SIGTERM/SIGINT or --seconds: closes everything, frees the TLS configuration and compares
 * the same with the baseline taken before it was made; exit status 3 when they differ,
 * 0 when back at the baseline.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hostnet.h"
#include "lwip/stats.h"
#include "lwip_ws.h"
#include "unixport.h"

#include "common.h"

#define POOL_SIZE 64
#define MAX_SECONDS 3600L

static const char page[] =
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>lwip-ws tls</title></head>"
    "<body><p id=\"state\">loading</p><p id=\"echo\"></p><script>\n"
    "var ws = new WebSocket('wss://' + location.host + '/echo');\n"
    "ws.onopen = function () {\n"
    "  document.getElementById('state').textContent = 'connected to ' + ws.url;\n"
    "  ws.send('hello from the page');\n"
    "};\n"
    "ws.onmessage = function (e) {\n"
    "  document.getElementById('echo').textContent = 'echo: ' + e.data;\n"
    "};\n"
    "ws.onerror = function () { document.getElementById('state').textContent = 'error'; };\n"
    "</script></body></html>\n";

static WSListener listener;
static WSSCB callbacks;
static WSS pool[POOL_SIZE];
static int busy[POOL_SIZE];
static volatile sig_atomic_t stop, checkRequested;

static void onSignal(int sig)
{
    signal(sig, onSignal); /* -std=c99: signal() handlers are one-shot */
    if (sig == SIGUSR1) {
        checkRequested = 1;
    } else {
        stop = 1;
    }
}

static int slotOf(const WSS *wss)
{
    return (int)(wss - pool);
}

static void onFrame(WSSCB *o, WSS *wss, void *data, int len, int isTxt)
{
    int rc;
    (void)o;
    if (isTxt && len > 6 && len < 12 && strncmp((const char *)data, "close:", 6) == 0) {
        int code = atoi((const char *)data + 6); /* data is NUL-terminated */
        rc = WSS_close(wss, code);
        if (rc != LWIP_WS_OK) {
            printf("error close(%d): %s\n", code, WSS_errorText(rc));
        }
        return;
    }
    rc = WSS_write(wss, data, len, isTxt);
    if (rc != LWIP_WS_OK) {
        printf("error write slot %d: %s\n", slotOf(wss), WSS_errorText(rc));
    }
}

static void onClose(WSSCB *o, WSS *wss, int status)
{
    (void)o;
    busy[slotOf(wss)] = 0;
    printf("close %d %d\n", slotOf(wss), status);
}

/* A request answered with a page or an error: the answer must have gone out. */
static void answered(int rc)
{
    if (rc != LWIP_WS_OK) {
        printf("error answer: %s\n", WSS_errorText(rc));
    }
}

static void onRequest(WSListener *l, HttpRequest *req)
{
    const char *path = HttpRequest_getPath(req);
    int i, rc;
    (void)l;
    if (strcmp(path, "/") == 0) {
        answered(HttpRequest_respond(req, 200, "text/html; charset=utf-8", page,
                                     (int)strlen(page)));
        return;
    }
    if (strcmp(path, "/echo") != 0 || !HttpRequest_isWebSocket(req)) {
        answered(HttpRequest_reject(req, 404));
        return;
    }
    for (i = 0; i < POOL_SIZE && busy[i]; i++) {
    }
    if (i == POOL_SIZE) {
        printf("error pool full\n");
        answered(HttpRequest_reject(req, 503));
        return;
    }
    WSS_destructor(&pool[i]);
    rc = WSS_constructor(&pool[i], &callbacks, 1024, 4096);
    if (rc == LWIP_WS_OK) {
        rc = WSS_setMaxMessage(&pool[i], 2u << 20);
    }
    if (rc == LWIP_WS_OK) { /* the echo sends back what it receives */
        rc = WSS_setSendQueue(&pool[i], (2u << 20) + 14);
    }
    if (rc != LWIP_WS_OK) {
        printf("error slot %d: %s\n", i, WSS_errorText(rc));
        answered(HttpRequest_reject(req, 500));
        return;
    }
    if (WSS_upgrade(&pool[i], req) == LWIP_WS_OK) {
        busy[i] = 1;
        printf("open %d\n", i);
    }
}

static int openCount(void)
{
    int i, n = 0;
    for (i = 0; i < POOL_SIZE; i++) {
        n += busy[i];
    }
    return n;
}

/* Lets lwIP's clock run past TIME_WAIT (2 * TCP_MSL = 120 s) and every timer, taking the
 * network's last segments in between; a few rounds, until nothing changes. */
static int settledDiffs(const char *prog, const MemSnapshot *base)
{
    MemSnapshot now;
    int round, i, diffs = 0;
    for (round = 0; round < 4; round++) {
        unixport_run_for(130000);
        for (i = 0; i < 20; i++) {
            hostnet_poll(5);
        }
        memSnapshot(&now);
        diffs = memCompare(round < 3 ? NULL : prog, base, &now);
        if (diffs == 0) {
            break;
        }
    }
    return diffs;
}

static int usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s SPEC CERTDIR [--port N] [--handshake-timeout MS] [--seconds N]\n",
            argv0);
    return 2;
}

int main(int argc, char **argv)
{
    long seconds = 600, handshakeMs = 0;
    int port = 443, i, rc, certLen, keyLen, rounds, diffs;
    char path[1024];
    char *cert, *key;
    WSTlsConfig *cfg = NULL;
    MemSnapshot beforeConfig, listening;
    time_t deadline;

    if (argc < 3) {
        return usage(argv[0]);
    }
    for (i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            port = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--handshake-timeout") == 0 && i + 1 < argc) {
            handshakeMs = atol(argv[++i]);
        } else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            seconds = atol(argv[++i]);
        } else {
            return usage(argv[0]);
        }
    }
    if (port <= 0 || port > 65535 || seconds <= 0 || seconds > MAX_SECONDS ||
        handshakeMs < 0 || handshakeMs > 600000) {
        return usage(argv[0]);
    }
    snprintf(path, sizeof path, "%s/server.pem", argv[2]);
    cert = readFile(path, &certLen);
    snprintf(path, sizeof path, "%s/server.key", argv[2]);
    key = readFile(path, &keyLen);
    if (cert == NULL || key == NULL) {
        return 1;
    }
    signal(SIGTERM, onSignal);
    signal(SIGINT, onSignal);
    signal(SIGUSR1, onSignal);
    setvbuf(stdout, NULL, _IOLBF, 0);

    if (hostnet_start(argv[1]) < 0) {
        return 1;
    }
    memSnapshot(&beforeConfig);
    WSSCB_constructor(&callbacks, onFrame, onClose, NULL);
    rc = WSTls_serverConfig(cert, certLen, key, keyLen, NULL, &cfg);
    free(cert);
    free(key);
    if (rc == LWIP_WS_OK) {
        rc = WSListener_constructor(&listener, onRequest);
    }
    if (rc == LWIP_WS_OK) {
        rc = WSListener_setLimits(&listener, 64, 4096);
    }
    if (rc == LWIP_WS_OK && handshakeMs > 0) {
        rc = WSListener_setHandshakeTimeout(&listener, (uint32_t)handshakeMs);
    }
    if (rc == LWIP_WS_OK) {
        rc = WSListener_listenTls(&listener, NULL, (uint16_t)port, cfg);
    }
    if (rc != LWIP_WS_OK) {
        fprintf(stderr, "%s: TLS listener on port %d: %s\n", argv[0], port, WSS_errorText(rc));
        return 1;
    }
    memSnapshot(&listening);
    printf("ready port %d\n", port);

    deadline = time(NULL) + seconds;
    while (!stop && time(NULL) < deadline) {
        if (hostnet_poll(10) < 0) {
            fprintf(stderr, "%s: network error\n", argv[0]);
            return 1;
        }
        if (checkRequested) {
            checkRequested = 0;
            if (openCount() != 0) {
                printf("memory-check FAILED: %d connections still open\n", openCount());
            } else if (settledDiffs("memory-check", &listening) != 0) {
                printf("memory-check FAILED\n");
            } else {
                printf("memory-check ok (lwIP heap %ld bytes, mbedTLS %ld blocks)\n",
                       lwipws_stats_mem_used(), mbedtlsLiveBlocks());
            }
        }
    }

    WSListener_destructor(&listener);
    for (i = 0; i < POOL_SIZE; i++) {
        if (busy[i] && WSS_close(&pool[i], 1001) != LWIP_WS_OK) {
            WSS_destructor(&pool[i]);
            busy[i] = 0;
        }
    }
    for (rounds = 0; rounds < 200 && openCount() > 0; rounds++) {
        hostnet_poll(10);
    }
    for (i = 0; i < POOL_SIZE; i++) {
        WSS_destructor(&pool[i]);
    }
    WSTls_freeConfig(cfg);
    diffs = settledDiffs("exit", &beforeConfig);
    printf("exit: lwIP heap %ld bytes in use (baseline %ld, peak %ld), mbedTLS %ld blocks, "
           "%ld bytes (baseline %ld, %ld; peak %ld); %s\n",
           lwipws_stats_mem_used(), beforeConfig.heap, (long)lwip_stats.mem.max,
           mbedtlsLiveBlocks(), mbedtlsLiveBytes(), beforeConfig.mbedtlsBlocks,
           beforeConfig.mbedtlsBytes, mbedtlsPeakBytes(),
           diffs == 0 ? "memory back at baseline" : "memory NOT back at baseline");
    return diffs == 0 ? 0 : 3;
}
