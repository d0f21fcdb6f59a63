/*
 * chat SPEC [PORT] [--seconds N] [--max-message BYTES]
 *
 * One lwIP port serves a page and two WebSocket endpoints (WSListener):
 *   GET /      the page in index.html (a small chat/echo client)
 *   GET /ws    chat: every message is broadcast to every open /ws connection
 *   GET /echo  echo: every message goes back to its sender with its type; the text
 *              "close:CODE" makes the server close the connection with CODE instead
 * SPEC is a hostnet network (hostnet.h): "slirp:HOSTPORT:GUESTPORT", "tap:IF:IP:HOSTIP"
 * or "loop"; PORT is lwIP's port (default: slirp's GUESTPORT, else 80). Runs until SIGINT/SIGTERM or for N seconds, then shuts down cleanly.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hostnet.h"
#include "lwip_ws.h"
#include "page.h" /* index_html[], index_html_len: generated from index.html */

#define POOL_SIZE 64
#define MAX_SECONDS (7L * 24 * 3600)

/* The callbacks of one endpoint; WSSCB first so the callbacks can cast back. */
typedef struct {
    WSSCB cb;
} Endpoint;

static WSListener listener;
static WSS pool[POOL_SIZE];
static const Endpoint *slotEndpoint[POOL_SIZE]; /* NULL: the slot is free */
static unsigned long maxMessage;
static unsigned long accepted, rejectedFull, dropped, closed;
static volatile sig_atomic_t stop;

static Endpoint chat, echo;

static void onSignal(int sig)
{
    (void)sig;
    stop = 1;
}

static int slotOf(const WSS *wss)
{
    return (int)(wss - pool);
}

/* Queues one message; a full send queue drops it for this client and counts it. */
static void sendOrDrop(WSS *wss, const void *data, int len, int isTxt)
{
    int rc = WSS_write(wss, data, len, isTxt);
    if (rc == LWIP_WS_ERR_WOULD_BLOCK) {
        dropped++;
    } else if (rc != LWIP_WS_OK) {
        fprintf(stderr, "chat: write to slot %d: %s\n", slotOf(wss), WSS_errorText(rc));
    }
}

static void onChatFrame(WSSCB *o, WSS *wss, void *data, int len, int isTxt)
{
    int i;
    (void)o;
    (void)wss;
    for (i = 0; i < POOL_SIZE; i++) {
        if (slotEndpoint[i] == &chat && WSS_isValid(&pool[i])) {
            sendOrDrop(&pool[i], data, len, isTxt);
        }
    }
}

static void onEchoFrame(WSSCB *o, WSS *wss, void *data, int len, int isTxt)
{
    (void)o;
    if (isTxt && len > 6 && len < 12 && strncmp((const char *)data, "close:", 6) == 0) {
        int code = atoi((const char *)data + 6); /* data is NUL-terminated */
        int rc = WSS_close(wss, code);
        if (rc != LWIP_WS_OK) {
            fprintf(stderr, "chat: close(%d): %s\n", code, WSS_errorText(rc));
        }
        return;
    }
    sendOrDrop(wss, data, len, isTxt);
}

static void onClose(WSSCB *o, WSS *wss, int status)
{
    (void)o;
    (void)status;
    slotEndpoint[slotOf(wss)] = NULL; /* the last callback: the slot is free again */
    closed++;
}

/* Moves the upgrade request into a free slot, constructed for endpoint e. */
static void upgrade(HttpRequest *req, Endpoint *e)
{
    int i, rc;
    for (i = 0; i < POOL_SIZE && slotEndpoint[i] != NULL; i++) {
    }
    if (i == POOL_SIZE) {
        rejectedFull++;
        HttpRequest_reject(req, 503);
        return;
    }
    WSS_destructor(&pool[i]); /* a previous connection's state, if any */
    rc = WSS_constructor(&pool[i], &e->cb, 1024, 4096);
    if (rc == LWIP_WS_OK && maxMessage != 0) {
        rc = WSS_setMaxMessage(&pool[i], (uint32_t)maxMessage);
    }
    if (rc != LWIP_WS_OK) {
        fprintf(stderr, "chat: slot %d: %s\n", i, WSS_errorText(rc));
        HttpRequest_reject(req, 500);
        return;
    }
    if (WSS_upgrade(&pool[i], req) == LWIP_WS_OK) { /* else the library answered */
        slotEndpoint[i] = e;
        accepted++;
    }
}

static void onRequest(WSListener *l, HttpRequest *req)
{
    const char *path = HttpRequest_getPath(req);
    (void)l;
    if (strcmp(path, "/ws") == 0 || strcmp(path, "/echo") == 0) {
        if (!HttpRequest_isWebSocket(req)) {
            HttpRequest_reject(req, 400);
        } else {
            upgrade(req, path[1] == 'w' ? &chat : &echo);
        }
    } else if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0) {
        HttpRequest_respond(req, 200, "text/html; charset=utf-8", index_html,
                            (int)index_html_len);
    } else {
        HttpRequest_reject(req, 404);
    }
}

static int openCount(void)
{
    int i, n = 0;
    for (i = 0; i < POOL_SIZE; i++) {
        n += slotEndpoint[i] != NULL;
    }
    return n;
}

/* Closes the listener and every connection (waiting up to 2 s for the close
 * handshakes), then releases the storage. */
static void shutdownAll(void)
{
    int i, rounds;
    WSListener_destructor(&listener);
    for (i = 0; i < POOL_SIZE; i++) {
        if (slotEndpoint[i] != NULL && WSS_close(&pool[i], 1001) != LWIP_WS_OK) {
            WSS_destructor(&pool[i]); /* not open yet or closing: abort it */
            slotEndpoint[i] = NULL;
        }
    }
    for (rounds = 0; rounds < 200 && openCount() > 0; rounds++) {
        hostnet_poll(10);
    }
    for (i = 0; i < POOL_SIZE; i++) {
        WSS_destructor(&pool[i]);
        slotEndpoint[i] = NULL;
    }
}

static int usage(const char *argv0)
{
    fprintf(stderr, "usage: %s SPEC [PORT] [--seconds N] [--max-message BYTES]\n", argv0);
    return 2;
}

/* The URL the host reaches: slirp forwards 127.0.0.1:HOSTPORT; tap has lwIP's own
 * address; loop is lwIP's loopback. */
static void printReady(const char *spec, int port)
{
    char ip[64] = "127.0.0.1";
    int hostPort = port;
    if (strncmp(spec, "slirp:", 6) == 0) {
        hostPort = atoi(spec + 6);
    } else if (strncmp(spec, "tap:", 4) == 0) {
        const char *p = strchr(spec + 4, ':');
        size_t n = p != NULL ? strcspn(p + 1, ":/") : 0;
        if (n > 0 && n < sizeof ip) {
            memcpy(ip, p + 1, n);
            ip[n] = '\0';
        }
    }
    printf("ready http://%s:%d/\n", ip, hostPort);
}

int main(int argc, char **argv)
{
    long seconds = MAX_SECONDS;
    int port, i, rc;
    time_t deadline;

    if (argc < 2) {
        return usage(argv[0]);
    }
    i = 2;
    if (argc > 2 && strncmp(argv[2], "--", 2) != 0) {
        port = atoi(argv[i++]);
    } else { /* default: slirp's guest port, else 80 */
        const char *guest = strncmp(argv[1], "slirp:", 6) == 0 ? strrchr(argv[1], ':') : NULL;
        port = guest != NULL ? atoi(guest + 1) : 80;
    }
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            seconds = atol(argv[++i]);
        } else if (strcmp(argv[i], "--max-message") == 0 && i + 1 < argc) {
            maxMessage = strtoul(argv[++i], NULL, 10);
        } else {
            return usage(argv[0]);
        }
    }
    if (port <= 0 || port > 65535 || seconds <= 0 || seconds > MAX_SECONDS ||
        maxMessage > 0x7FFFFFFFUL) {
        fprintf(stderr, "%s: bad PORT, --seconds or --max-message\n", argv[0]);
        return 2;
    }
    signal(SIGTERM, onSignal);
    signal(SIGINT, onSignal);
    setvbuf(stdout, NULL, _IOLBF, 0);

    WSSCB_constructor(&chat.cb, onChatFrame, onClose, NULL);
    WSSCB_constructor(&echo.cb, onEchoFrame, onClose, NULL);

    if (hostnet_start(argv[1]) < 0) {
        return 1;
    }
    rc = WSListener_constructor(&listener, onRequest);
    if (rc == LWIP_WS_OK) {
        rc = WSListener_setLimits(&listener, 64, 4096);
    }
    if (rc == LWIP_WS_OK) {
        rc = WSListener_listen(&listener, NULL, (uint16_t)port);
    }
    if (rc != LWIP_WS_OK) {
        fprintf(stderr, "%s: listen on port %d: %s\n", argv[0], port, WSS_errorText(rc));
        return 1;
    }
    printReady(argv[1], port);

    deadline = time(NULL) + seconds;
    while (!stop && time(NULL) < deadline) {
        if (hostnet_poll(10) < 0) {
            fprintf(stderr, "%s: network error\n", argv[0]);
            shutdownAll();
            return 1;
        }
    }
    shutdownAll();
    printf("chat: %lu accepted, %lu refused (pool full), %lu closed, %lu dropped writes\n",
           accepted, rejectedFull, closed, dropped);
    return 0;
}
