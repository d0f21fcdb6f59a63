/*
 * chat SPEC [PORT] [--seconds N] [--max-message BYTES] [--budget BYTES]
 *      [--allow-origin LIST]
 * chat-tls SPEC [PORT] [--tls TLSPORT CERT KEY] [options as above]
 *
 * One lwIP port serves two pages and three WebSocket endpoints (WSListener):
 *   GET /      the device dashboard (dashboard.c, dashboard.html): a simulated sensor
 *              pushes its readings to /sensor, the page plots them and sends commands
 *   GET /chat  the page in index.html (a small chat/echo client)
 *   GET /ws    chat: every message is broadcast to every open /ws connection (whole
 *              messages, at most --max-message bytes, default the library's 65536)
 *   GET /echo  echo: every message goes back to its sender with its type, streamed
 *              piece by piece, so any size (up to 2 GiB) echoes in bounded memory; the
 *              text "close:CODE" makes the server close the connection with CODE instead
 * SPEC is a hostnet network (hostnet.h): "slirp:HOSTPORT:GUESTPORT", "tap:IF:IP:HOSTIP"
 * or "loop"; PORT is lwIP's port (default: slirp's GUESTPORT, else 80). Runs until
 * SIGINT/SIGTERM or for N seconds, then shuts down cleanly.
 *
 * Built with -DCHAT_TLS (build/examples/chat-tls: the library with feature `tls`),
 * --tls also serves the same page and endpoints as https:// and wss:// on lwIP's TLSPORT
 * (WSListener_listenTls; certificate chain CERT and key KEY, PEM files), with the same
 * policy; both ports share one chat room. E.g. SPEC "slirp:8080:80:8443:443" forwards
 * both.
 *
 * Hostile-network policy: all connections share one heap budget (--budget, default
 * 4 MiB; 0: unlimited); WebSocket upgrades are accepted only from the origins in
 * --allow-origin (comma-separated, "*": any; default: no Origin or the page's own);
 * the library's handshake, keep-alive and message timeouts keep their defaults.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hostnet.h"
#include "dashboard.h"
#include "lwip_ws.h"
#include "page.h" /* const index_html[], index_html_len: generated from index.html */

#define POOL_SIZE 256
#define MAX_SECONDS (7L * 24 * 3600)
#define DEFAULT_BUDGET (4UL * 1024 * 1024)
/* /echo's send queue: a paused reader lets it drain below half before reading on. */
#define ECHO_SEND_QUEUE (256 * 1024)
/* /echo gathers pieces (about one TCP segment each) into fragments of up to this many
 * bytes: a 16 MiB message goes back in 2048 fragments, not 11 000 (clients limit the
 * fragments of a message: Python websockets to 4096). Static, touched only when used. */
#define ECHO_FRAGMENT 8192

/* The callbacks of one endpoint; WSSCB first so the callbacks can cast back. */
typedef struct {
    WSSCB cb;
} Endpoint;

static WSListener listener;
static WSS pool[POOL_SIZE];
static const Endpoint *slotEndpoint[POOL_SIZE]; /* NULL: the slot is free */
static char slotPaused[POOL_SIZE];  /* /echo: reading paused until the queue drains */
static char slotFailed[POOL_SIZE];  /* /echo: closing after a failed write */
static unsigned char echoBuf[POOL_SIZE][ECHO_FRAGMENT]; /* /echo: the fragment gathered */
static int echoLen[POOL_SIZE];
static unsigned long maxMessage;
static unsigned long budget = DEFAULT_BUDGET;
static const char *allowOrigin; /* NULL: the library's same-origin policy */
static unsigned long accepted, rejectedFull, rejectedOther, dropped, closed, echoFailed;
static volatile sig_atomic_t stop;

static Endpoint chat, echo;

#ifdef CHAT_TLS
static WSListener tlsListener;
static WSTlsConfig *tlsConfig;
static int tlsPort;
static const char *tlsCert, *tlsKey;
#endif

static void onSignal(int sig)
{
    (void)sig;
    stop = 1;
}

static int slotOf(const WSS *wss)
{
    return (int)(wss - pool);
}

/* Logs why an upgrade was refused, once per reason (a flood must not flood the log;
 * the summary at exit counts them all). */
static void logRefusal(HttpRequest *req, int reason, const char *what)
{
    static char logged[8];
    ip_addr_t addr;
    uint16_t port = 0;
    if (reason < 0 || reason >= (int)sizeof logged || logged[reason]) {
        return;
    }
    logged[reason] = 1;
    if (HttpRequest_peerAddr(req, &addr, &port) == LWIP_WS_OK) {
        fprintf(stderr, "chat: upgrade from %s:%u refused: %s (logged once)\n",
                ipaddr_ntoa(&addr), (unsigned)port, what);
    } else {
        fprintf(stderr, "chat: upgrade refused: %s (logged once)\n", what);
    }
}

/* Reports a call that failed where the program can only go on (answering a request
 * that is gone, closing a connection that is closing already). */
static void report(const char *what, int rc)
{
    if (rc != LWIP_WS_OK) {
        fprintf(stderr, "chat: %s: %s\n", what, WSS_errorText(rc));
    }
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

/* /echo is streamed: the library delivers pieces (chunkFp), never whole messages. */
static void onEchoFrame(WSSCB *o, WSS *wss, void *data, int len, int isTxt)
{
    (void)o;
    (void)wss;
    (void)data;
    (void)len;
    (void)isTxt;
}

/* "close:CODE" as one whole small text message: close with CODE. */
static int echoCloseCommand(WSS *wss, const char *data, int len)
{
    char text[12];
    int code, rc;
    if (len <= 6 || len >= (int)sizeof text || strncmp(data, "close:", 6) != 0) {
        return 0;
    }
    memcpy(text, data, (size_t)len); /* a piece is not NUL-terminated */
    text[len] = '\0';
    code = atoi(text + 6);
    rc = WSS_close(wss, code);
    if (rc != LWIP_WS_OK) {
        fprintf(stderr, "chat: close(%d): %s\n", code, WSS_errorText(rc));
    }
    return 1;
}

/* Queues one fragment; a fragment that cannot be queued is never dropped silently (the
 * echo would be corrupt): the connection closes with 1011. Returns 0 on failure. */
static int echoFragment(WSS *wss, const void *data, int len, int isTxt, int last)
{
    int slot = slotOf(wss);
    int rc = WSS_writeFragment(wss, data, len, isTxt, last);
    if (rc != LWIP_WS_OK) {
        fprintf(stderr, "chat: echo slot %d: fragment of %d bytes: %s; closing 1011\n", slot,
                len, WSS_errorText(rc));
        slotFailed[slot] = 1;
        echoFailed++;
        report("close after a failed write", WSS_close(wss, 1011));
        return 0;
    }
    return 1;
}

/* Pieces go back as fragments of the same message, gathered up to ECHO_FRAGMENT bytes.
 * When the send queue is over half full, reading pauses (the TCP window closes, the
 * sender waits) until it has drained: memory stays bounded whatever the message size. */
static void onEchoChunk(WSSCB *o, WSS *wss, void *data, int len, int isTxt, uint64_t offset,
                        int last)
{
    int slot = slotOf(wss);
    (void)o;
    if (slotFailed[slot]) {
        return;
    }
    if (offset == 0 && last && isTxt && echoCloseCommand(wss, (const char *)data, len)) {
        return;
    }
    if (echoLen[slot] > 0 && echoLen[slot] + len > ECHO_FRAGMENT) {
        if (!echoFragment(wss, echoBuf[slot], echoLen[slot], isTxt, 0)) {
            return;
        }
        echoLen[slot] = 0;
    }
    if (echoLen[slot] + len <= ECHO_FRAGMENT) {
        memcpy(echoBuf[slot] + echoLen[slot], data, (size_t)len);
        echoLen[slot] += len;
        if (last || echoLen[slot] == ECHO_FRAGMENT) {
            if (!echoFragment(wss, echoBuf[slot], echoLen[slot], isTxt, last)) {
                return;
            }
            echoLen[slot] = 0;
        }
    } else if (!echoFragment(wss, data, len, isTxt, last)) { /* a piece over ECHO_FRAGMENT */
        return;
    }
    if (!slotPaused[slot] && WSS_queued(wss) > ECHO_SEND_QUEUE / 2) {
        if (WSS_pauseRead(wss) == LWIP_WS_OK) {
            slotPaused[slot] = 1;
        }
    }
}

static void resumeEcho(WSS *wss)
{
    int slot = slotOf(wss);
    if (slotPaused[slot] && WSS_queued(wss) <= ECHO_SEND_QUEUE / 2) {
        slotPaused[slot] = 0;
        /* may deliver held pieces, which may pause again */
        report("resume reading", WSS_resumeRead(wss));
    }
}

static void onEchoWritable(WSSCB *o, WSS *wss)
{
    (void)o;
    resumeEcho(wss);
}

/* writableFp follows only a write that would have blocked; a pause after a write that
 * succeeded is lifted here, from the main loop, once the queue has drained. */
static void resumeDrainedEchoes(void)
{
    int i;
    for (i = 0; i < POOL_SIZE; i++) {
        if (slotPaused[i] && slotEndpoint[i] == &echo) {
            resumeEcho(&pool[i]);
        }
    }
}

static void onClose(WSSCB *o, WSS *wss, int status)
{
    (void)o;
    (void)status;
    slotEndpoint[slotOf(wss)] = NULL; /* the last callback: the slot is free again */
    slotPaused[slotOf(wss)] = 0;
    slotFailed[slotOf(wss)] = 0;
    echoLen[slotOf(wss)] = 0;
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
        logRefusal(req, 0, "connection pool full (503)");
        report("answer 503", HttpRequest_reject(req, 503));
        return;
    }
    WSS_destructor(&pool[i]); /* a previous connection's state, if any */
    rc = WSS_constructor(&pool[i], &e->cb, 1024, 4096);
    if (rc == LWIP_WS_OK && e == &echo) {
        /* Any size: streamed in, echoed in fragments through a bounded send queue. */
        rc = WSS_setMaxMessage(&pool[i], 0x7FFFFFFFUL);
        if (rc == LWIP_WS_OK) {
            rc = WSS_setSendQueue(&pool[i], ECHO_SEND_QUEUE);
        }
        if (rc == LWIP_WS_OK) {
            rc = WSS_setStreaming(&pool[i], 1);
        }
    } else if (rc == LWIP_WS_OK && maxMessage != 0) {
        rc = WSS_setMaxMessage(&pool[i], (uint32_t)maxMessage);
        if (rc == LWIP_WS_OK) { /* room to broadcast one whole message */
            rc = WSS_setSendQueue(&pool[i], (uint32_t)maxMessage + 14);
        }
    }
    if (rc != LWIP_WS_OK) {
        fprintf(stderr, "chat: slot %d: %s\n", i, WSS_errorText(rc));
        report("answer 500", HttpRequest_reject(req, 500));
        return;
    }
    slotPaused[i] = 0;
    slotFailed[i] = 0;
    echoLen[i] = 0;
    if (WSS_upgrade(&pool[i], req) == LWIP_WS_OK) {
        slotEndpoint[i] = e;
        accepted++;
    } else { /* the library answered with the HTTP error */
        rejectedOther++;
        logRefusal(req, 1, "invalid upgrade request (library answered 4xx/5xx)");
    }
}

static void onRequest(WSListener *l, HttpRequest *req)
{
    const char *path = HttpRequest_getPath(req);
    (void)l;
    if (dashboard_request(req, path)) {
        return; /* "/", "/index.html", "/sensor" */
    }
    if (strcmp(path, "/ws") == 0 || strcmp(path, "/echo") == 0) {
        if (!HttpRequest_isWebSocket(req)) {
            rejectedOther++;
            logRefusal(req, 2, "not a WebSocket upgrade (400)");
            report("answer 400", HttpRequest_reject(req, 400));
        } else {
            upgrade(req, path[1] == 'w' ? &chat : &echo);
        }
    } else if (strcmp(path, "/chat") == 0) {
        /* Constant data: sent by reference, no copy (in firmware it stays in flash). */
        report("send the page",
               HttpRequest_respondStatic(req, 200, "text/html; charset=utf-8", index_html,
                                         (int)index_html_len));
    } else {
        report("answer 404", HttpRequest_reject(req, 404));
    }
}

static int openCount(void)
{
    int i, n = 0;
    for (i = 0; i < POOL_SIZE; i++) {
        n += slotEndpoint[i] != NULL;
    }
    return n + dashboard_openCount();
}

/* Closes the listener and every connection (waiting up to 2 s for the close
 * handshakes), then releases the storage. */
static void shutdownAll(void)
{
    int i, rounds;
    WSListener_destructor(&listener);
#ifdef CHAT_TLS
    WSListener_destructor(&tlsListener);
#endif
    dashboard_close();
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
#ifdef CHAT_TLS
    WSTls_freeConfig(tlsConfig); /* after every listener and connection using it */
    tlsConfig = NULL;
#endif
    dashboard_release();
}

static int usage(const char *argv0)
{
    fprintf(stderr,
            "usage: %s SPEC [PORT] [--seconds N] [--max-message BYTES] [--budget BYTES]\n"
            "       [--allow-origin ORIGIN[,ORIGIN...] | --allow-origin '*']\n"
#ifdef CHAT_TLS
            "       [--tls TLSPORT CERT.pem KEY.pem]\n"
#endif
            ,
            argv0);
    return 2;
}

/* The URL the host reaches: slirp forwards 127.0.0.1:HOSTPORT (the pair whose GUESTPORT
 * is lwIP's port); tap has lwIP's own address; loop is lwIP's loopback. */
static void printReady(const char *spec, int port, const char *scheme)
{
    char ip[64] = "127.0.0.1";
    int hostPort = port;
    if (strncmp(spec, "slirp:", 6) == 0) {
        const char *p = spec + 5;
        while (p != NULL && *p == ':') {
            int h = atoi(p + 1);
            p = strchr(p + 1, ':');
            if (p != NULL && atoi(p + 1) == port) {
                hostPort = h;
                break;
            }
            p = p != NULL ? strchr(p + 1, ':') : NULL;
        }
    } else if (strncmp(spec, "tap:", 4) == 0) {
        const char *p = strchr(spec + 4, ':');
        size_t n = p != NULL ? strcspn(p + 1, ":/") : 0;
        if (n > 0 && n < sizeof ip) {
            memcpy(ip, p + 1, n);
            ip[n] = '\0';
        }
    }
    printf("ready %s://%s:%d/\n", scheme, ip, hostPort);
}

/* The policy both ports share: waiting slots and request size, allowed origins. */
static int setUpListener(WSListener *l)
{
    int rc = WSListener_constructor(l, onRequest);
    if (rc == LWIP_WS_OK) {
        rc = WSListener_setLimits(l, 64, 4096);
    }
    if (rc == LWIP_WS_OK) {
        rc = WSListener_setOrigins(l, allowOrigin);
    }
    return rc;
}

#ifdef CHAT_TLS
/* A PEM file (at most 64 KiB) into a heap buffer with its NUL; *len counts the NUL.
 * NULL when missing, empty or too long. */
static char *readPem(const char *path, long *len)
{
    enum { PEM_MAX = 64 * 1024 };
    char *buf = malloc(PEM_MAX);
    FILE *f = fopen(path, "rb");
    size_t n = 0;
    if (buf != NULL && f != NULL) {
        n = fread(buf, 1, PEM_MAX, f);
    }
    if (f != NULL) {
        fclose(f);
    }
    if (n == 0 || n == PEM_MAX) {
        fprintf(stderr, "chat: cannot read %s (missing, empty or over 64 KiB)\n", path);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = (long)n + 1;
    return buf;
}

/* The TLS listener on tlsPort with the certificate chain and key from tlsCert/tlsKey. */
static int listenTls(void)
{
    long certLen = 0, keyLen = 0;
    char *cert = readPem(tlsCert, &certLen);
    char *key = readPem(tlsKey, &keyLen);
    int rc = LWIP_WS_ERR_ARG;
    if (cert != NULL && key != NULL) {
        rc = WSTls_serverConfig(cert, (int)certLen, key, (int)keyLen, NULL, &tlsConfig);
    }
    free(cert); /* the configuration keeps its own copy */
    free(key);
    if (rc == LWIP_WS_OK) {
        rc = setUpListener(&tlsListener);
    }
    if (rc == LWIP_WS_OK) {
        rc = WSListener_listenTls(&tlsListener, NULL, (uint16_t)tlsPort, tlsConfig);
    }
    if (rc != LWIP_WS_OK) {
        fprintf(stderr, "chat: TLS on port %d (%s, %s): %s\n", tlsPort, tlsCert, tlsKey,
                WSS_errorText(rc));
    }
    return rc;
}
#endif

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
    } else { /* default: slirp's (first) guest port, else 80 */
        const char *guest = strncmp(argv[1], "slirp:", 6) == 0 ? strchr(argv[1] + 6, ':') : NULL;
        port = guest != NULL ? atoi(guest + 1) : 80;
    }
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            seconds = atol(argv[++i]);
        } else if (strcmp(argv[i], "--max-message") == 0 && i + 1 < argc) {
            maxMessage = strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--budget") == 0 && i + 1 < argc) {
            budget = strtoul(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--allow-origin") == 0 && i + 1 < argc) {
            allowOrigin = argv[++i];
#ifdef CHAT_TLS
        } else if (strcmp(argv[i], "--tls") == 0 && i + 3 < argc) {
            tlsPort = atoi(argv[++i]);
            tlsCert = argv[++i];
            tlsKey = argv[++i];
            if (tlsPort <= 0 || tlsPort > 65535 || tlsPort == port) {
                return usage(argv[0]);
            }
#endif
        } else {
            return usage(argv[0]);
        }
    }
    if (port <= 0 || port > 65535 || seconds <= 0 || seconds > MAX_SECONDS ||
        maxMessage > 0x7FFFFFFFUL || budget / 2 > 0x7FFFFFFFUL) {
        fprintf(stderr, "%s: bad PORT, --seconds, --max-message or --budget\n", argv[0]);
        return 2;
    }
    signal(SIGTERM, onSignal);
    signal(SIGINT, onSignal);
    setvbuf(stdout, NULL, _IOLBF, 0);

    WSSCB_constructor(&chat.cb, onChatFrame, onClose, NULL);
    WSSCB_constructor(&echo.cb, onEchoFrame, onClose, NULL);
    echo.cb.chunkFp = onEchoChunk;
    echo.cb.writableFp = onEchoWritable;

    if (hostnet_start(argv[1]) < 0) {
        return 1;
    }
    rc = lwipws_setHeapBudget((uint32_t)budget);
    if (rc == LWIP_WS_OK) {
        rc = setUpListener(&listener);
    }
    if (rc == LWIP_WS_OK) {
        rc = WSListener_listen(&listener, NULL, (uint16_t)port);
    }
    if (rc != LWIP_WS_OK) {
        fprintf(stderr, "%s: listen on port %d: %s\n", argv[0], port, WSS_errorText(rc));
        return 1;
    }
#ifdef CHAT_TLS
    if (tlsPort != 0 && listenTls() != LWIP_WS_OK) {
        shutdownAll();
        return 1;
    }
#endif
    dashboard_start();
    printf("policy: heap budget %lu bytes%s, WebSocket origins: %s\n", budget,
           budget == 0 ? " (unlimited)" : "",
           allowOrigin != NULL ? allowOrigin : "same origin (or no Origin header)");
    printReady(argv[1], port, "http");
#ifdef CHAT_TLS
    if (tlsPort != 0) {
        printReady(argv[1], tlsPort, "https");
    }
#endif

    deadline = time(NULL) + seconds;
    while (!stop && time(NULL) < deadline) {
        if (hostnet_poll(10) < 0) {
            fprintf(stderr, "%s: network error\n", argv[0]);
            shutdownAll();
            return 1;
        }
        resumeDrainedEchoes();
    }
    shutdownAll();
    printf("chat: %lu accepted, %lu refused (pool full), %lu refused (bad request), "
           "%lu closed, %lu dropped writes, %lu echoes failed\n",
           accepted, rejectedFull, rejectedOther, closed, dropped, echoFailed);
    return 0;
}
