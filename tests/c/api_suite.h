/*
 * The C API checks shared by api_c99.c and api_cpp11.cpp (so the same code is compiled
 * as C99 and as C++11). Everything runs in one process on lwIP's loopback: a WSListener
 * server with an echo endpoint and WSS_openClient clients, driven by hostnet_poll in
 * bounded loops.
 */
#ifndef LWIP_WS_TEST_API_SUITE_H
#define LWIP_WS_TEST_API_SUITE_H

#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c99 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hostnet.h"
#include "lwip_ws.h"

#define SUITE_PORT 8000
#define SERVER_SLOTS 8
#define CLIENTS 4
#define BIG 65536

static int passed, failed, callbackErrors;

#define CHECK(cond, ...)                                                              \
    do {                                                                              \
        if (cond) {                                                                   \
            passed++;                                                                 \
            printf("ok   ");                                                          \
        } else {                                                                      \
            failed++;                                                                 \
            printf("FAIL ");                                                          \
        }                                                                             \
        printf(__VA_ARGS__);                                                          \
        printf("\n");                                                                 \
    } while (0)

/* A client connection and what its callbacks saw. The WSS comes first: callbacks cast
 * their WSS* back to the Client. */
typedef struct {
    WSS wss;
    int open, closeStatus, frames, pongs;
    unsigned char *last; /* the last message (malloc) */
    int lastLen, lastTxt, lastNul; /* lastNul: data[len] was 0 as documented */
    unsigned char pong[126];
    int pongLen;
    int writable;
    int verifySeq, verifyLen, verifyBad; /* in-order check of numbered messages */
} Client;

static WSListener listener;
static WSS servers[SERVER_SLOTS];
static int serverBusy[SERVER_SLOTS], serverClose[SERVER_SLOTS], serverDrops, serverPings;
static WSSCB serverCb, clientCb;
static Client clients[CLIENTS];

static double nowMs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/* Polls lwIP until *flag differs from 0 (or `until` says so) or timeoutMs passed. */
static int pollUntil(int (*until)(void), int timeoutMs)
{
    double end = nowMs() + timeoutMs;
    long rounds;
    for (rounds = 0; rounds < 1000000L && nowMs() < end; rounds++) {
        if (until()) {
            return 1;
        }
        hostnet_poll(1);
    }
    return until();
}

static void pattern(unsigned char *buf, int len, int seq)
{
    int j;
    for (j = 0; j < len; j++) {
        buf[j] = (unsigned char)(seq * 31 + j * 7 + (j >> 8));
    }
}

/* ---- server: echo, "close:CODE" closes with CODE ---- */

static void onServerFrame(WSSCB *o, WSS *wss, void *data, int len, int isTxt)
{
    (void)o;
    if (isTxt && len > 6 && len < 12 && strncmp((const char *)data, "close:", 6) == 0) {
        callbackErrors += WSS_close(wss, atoi((const char *)data + 6)) != LWIP_WS_OK;
    } else if (WSS_write(wss, data, len, isTxt) != LWIP_WS_OK) {
        serverDrops++;
    }
}

static void onServerClose(WSSCB *o, WSS *wss, int status)
{
    (void)o;
    serverBusy[wss - servers] = 0;
    serverClose[wss - servers] = status;
}

static void onServerPing(WSSCB *o, WSS *wss, void *data, int len)
{
    (void)o;
    (void)wss;
    serverPings += len == 3 && memcmp(data, "abc", 3) == 0;
}

static void onRequest(WSListener *l, HttpRequest *req);

/* ---- client ---- */

static void onClientFrame(WSSCB *o, WSS *wss, void *data, int len, int isTxt)
{
    Client *c = (Client *)wss;
    (void)o;
    c->frames++;
    if (c->verifyLen > 0) {
        unsigned char *want = (unsigned char *)malloc((size_t)c->verifyLen);
        pattern(want, c->verifyLen, c->verifySeq++);
        c->verifyBad += len != c->verifyLen || memcmp(want, data, (size_t)len) != 0;
        free(want);
        return;
    }
    free(c->last);
    c->last = (unsigned char *)malloc((size_t)len + 1);
    memcpy(c->last, data, (size_t)len);
    c->lastNul = ((const unsigned char *)data)[len] == 0;
    c->lastLen = len;
    c->lastTxt = isTxt;
}

static void onClientClose(WSSCB *o, WSS *wss, int status)
{
    Client *c = (Client *)wss;
    (void)o;
    c->open = 0;
    c->closeStatus = status;
}

static void onClientPong(WSSCB *o, WSS *wss, void *data, int len)
{
    Client *c = (Client *)wss;
    (void)o;
    c->pongs++;
    c->pongLen = len;
    memcpy(c->pong, data, (size_t)len);
}

static void onClientOpen(WSSCB *o, WSS *wss, const char *protocol)
{
    (void)o;
    (void)protocol;
    ((Client *)wss)->open = 1;
}

static void onClientWritable(WSSCB *o, WSS *wss)
{
    (void)o;
    ((Client *)wss)->writable++;
}

static Client *waitClient; /* the client the predicates below look at */
static int waitFrames;
static int isOpen(void) { return waitClient->open; }
static int isClosed(void) { return waitClient->closeStatus != 0; }
static int hasFrames(void) { return waitClient->frames >= waitFrames; }
static int hasPong(void) { return waitClient->pongs > 0; }
static int serversIdle(void)
{
    int i, busy = 0;
    for (i = 0; i < SERVER_SLOTS; i++) {
        busy += serverBusy[i];
    }
    return busy == 0;
}

/* Constructs c and connects it to the echo endpoint; 1 when open. */
static int openClient(Client *c)
{
    ip_addr_t addr;
    free(c->last);
    memset(c, 0, sizeof *c);
    IP_ADDR4(&addr, 127, 0, 0, 1);
    if (WSS_constructor(&c->wss, &clientCb, 256, 1024) != LWIP_WS_OK ||
        WSS_openClient(&c->wss, &addr, SUITE_PORT, "127.0.0.1", "/echo", NULL) != LWIP_WS_OK) {
        return 0;
    }
    waitClient = c;
    return pollUntil(isOpen, 3000);
}

/* Sends one message and waits for its echo; 1 when it came back identical. */
static int echoOnce(Client *c, const unsigned char *data, int len, int isTxt)
{
    waitClient = c;
    waitFrames = c->frames + 1;
    if (WSS_write(&c->wss, data, len, isTxt) != LWIP_WS_OK || !pollUntil(hasFrames, 5000)) {
        return 0;
    }
    return c->lastLen == len && c->lastTxt == isTxt &&
           (len == 0 || memcmp(c->last, data, (size_t)len) == 0);
}

/* Closes c with code (or the server via "close:CODE" when fromServer); 1 when both
 * closeFp saw the code. */
static int closeBothWays(Client *c, int code, int fromServer)
{
    char cmd[16];
    int rc;
    waitClient = c;
    if (fromServer) {
        sprintf(cmd, "close:%d", code);
        rc = WSS_write(&c->wss, cmd, (int)strlen(cmd), 1);
    } else {
        rc = WSS_close(&c->wss, code);
    }
    if (rc != LWIP_WS_OK || !pollUntil(isClosed, 6000) || !pollUntil(serversIdle, 6000)) {
        return 0;
    }
    return c->closeStatus == code && serverClose[0] == code;
}

static void checkArguments(void)
{
    static WSS never; /* zeroed static storage: never constructed */
    WSS local;
    WSSCB cb;
    WSListener l;
    int codes[] = {LWIP_WS_OK, LWIP_WS_ERR_ARG, LWIP_WS_ERR_STATE,
                   LWIP_WS_ERR_NOT_CONSTRUCTED, LWIP_WS_ERR_WOULD_BLOCK, LWIP_WS_ERR_TOO_BIG,
                   LWIP_WS_ERR_NO_MEM, LWIP_WS_ERR_LIMIT, LWIP_WS_ERR_LWIP,
                   LWIP_WS_ERR_ADDR_IN_USE, LWIP_WS_DROP_RESET, LWIP_WS_DROP_ABORTED,
                   LWIP_WS_DROP_PEER_CLOSED, LWIP_WS_DROP_HANDSHAKE_TIMEOUT,
                   LWIP_WS_DROP_CLOSE_TIMEOUT, LWIP_WS_DROP_HANDSHAKE_FAILED,
                   LWIP_WS_DROP_CONNECT_FAILED, LWIP_WS_DROP_NO_MEM, LWIP_WS_DROP_LOCAL,
                   1000, 1001, 1002, 1005, 1006, 1009, 4000, 12345, -9999};
    char key[29];
    size_t i;
    int textsOk = 1;

    CHECK(WSSCB_constructor(NULL, onClientFrame, onClientClose, NULL) == LWIP_WS_ERR_ARG,
          "WSSCB_constructor(NULL) is ERR_ARG");
    CHECK(WSS_constructor(NULL, &clientCb, 16, 16) == LWIP_WS_ERR_ARG,
          "WSS_constructor(NULL) is ERR_ARG");
    CHECK(WSS_constructor(&local, NULL, 16, 16) == LWIP_WS_ERR_ARG,
          "WSS_constructor(cb NULL) is ERR_ARG");
    CHECK(WSS_write(NULL, "x", 1, 1) == LWIP_WS_ERR_ARG, "WSS_write(NULL) is ERR_ARG");
    CHECK(WSS_close(NULL, 1000) == LWIP_WS_ERR_ARG, "WSS_close(NULL) is ERR_ARG");
    CHECK(WSS_ping(NULL, "x", 1) == LWIP_WS_ERR_ARG, "WSS_ping(NULL) is ERR_ARG");
    CHECK(WSS_isValid(NULL) == 0, "WSS_isValid(NULL) is 0");
    CHECK(WSS_write(&never, "x", 1, 1) == LWIP_WS_ERR_NOT_CONSTRUCTED,
          "WSS_write(unconstructed) is ERR_NOT_CONSTRUCTED");
    CHECK(WSS_close(&never, 1000) == LWIP_WS_ERR_NOT_CONSTRUCTED,
          "WSS_close(unconstructed) is ERR_NOT_CONSTRUCTED");
    CHECK(WSS_setMaxMessage(&never, 100) == LWIP_WS_ERR_NOT_CONSTRUCTED,
          "WSS_setMaxMessage(unconstructed) is ERR_NOT_CONSTRUCTED");
    CHECK(WSS_isValid(&never) == 0, "WSS_isValid(unconstructed) is 0");
    WSS_destructor(NULL);
    WSS_destructor(&never);
    CHECK(1, "WSS_destructor(NULL) and (unconstructed) return");

    WSSCB_constructor(&cb, onClientFrame, onClientClose, NULL);
    CHECK(WSS_constructor(&local, &cb, 16, 16) == LWIP_WS_OK, "WSS_constructor on the stack");
    CHECK(WSS_write(&local, "x", 1, 1) == LWIP_WS_ERR_STATE, "WSS_write before connecting is ERR_STATE");
    CHECK(WSS_close(&local, 1000) == LWIP_WS_ERR_STATE, "WSS_close without a connection is ERR_STATE");
    CHECK(WSS_setMaxMessage(&local, 0) == LWIP_WS_ERR_ARG, "WSS_setMaxMessage(0) is ERR_ARG");
    CHECK(WSS_setSendQueue(&local, 10) == LWIP_WS_ERR_ARG, "WSS_setSendQueue(10) is ERR_ARG");
    CHECK(WSS_setIdleRelease(&local, 0) == LWIP_WS_OK && WSS_setIdleRelease(&local, 1) == LWIP_WS_OK,
          "WSS_setIdleRelease while idle is OK");
    CHECK(WSS_setIdleRelease(&never, 0) == LWIP_WS_ERR_NOT_CONSTRUCTED,
          "WSS_setIdleRelease(unconstructed) is ERR_NOT_CONSTRUCTED");
    CHECK(websocket_accept(NULL, &local) == LWIP_WS_ERR_ARG, "websocket_accept(NULL pcb) is ERR_ARG");
    CHECK(WSS_setKeepAlive(&local, 1000, 0) == LWIP_WS_ERR_ARG &&
              WSS_setKeepAlive(&local, 0, 0) == LWIP_WS_OK &&
              WSS_setMessageTimeout(&local, 0) == LWIP_WS_OK,
          "WSS_setKeepAlive needs a timeout when on; 0 turns the timers off");
    CHECK(WSS_pauseRead(&local) == LWIP_WS_ERR_STATE && WSS_resumeRead(NULL) == LWIP_WS_ERR_ARG,
          "WSS_pauseRead without a connection is ERR_STATE, resumeRead(NULL) ERR_ARG");
    {
        ip_addr_t peer;
        u16_t peerPort = 0;
        CHECK(WSS_peerAddr(&local, &peer, &peerPort) == LWIP_WS_ERR_STATE &&
                  WSS_setTcpKeepAlive(&local, 1000, 1000, 3) == LWIP_WS_ERR_STATE,
              "WSS_peerAddr and WSS_setTcpKeepAlive without a connection are ERR_STATE");
    }
    CHECK(WSS_originAllowed("http://evil", "dev", NULL) == 0 &&
              WSS_originAllowed("http://dev", "dev", NULL) == 1,
          "WSS_originAllowed: a foreign origin is refused, the own one allowed");
    CHECK(lwipws_setHeapBudget(0) == LWIP_WS_OK && lwipws_heapBytes() == 0,
          "no budget, and nothing held");
    WSS_destructor(&local);
    CHECK(WSS_isValid(&local) == 0, "destroyed storage is not valid");

    CHECK(WSListener_constructor(NULL, onRequest) == LWIP_WS_ERR_ARG,
          "WSListener_constructor(NULL) is ERR_ARG");
    memset(&l, 0, sizeof l);
    CHECK(WSListener_listen(&l, NULL, 1) == LWIP_WS_ERR_NOT_CONSTRUCTED,
          "WSListener_listen(unconstructed) is ERR_NOT_CONSTRUCTED");
    WSListener_destructor(NULL);

    for (i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const char *t = WSS_errorText(codes[i]);
        textsOk &= t != NULL && t[0] != '\0';
    }
    CHECK(textsOk, "WSS_errorText is a non-empty string for %d codes", (int)(sizeof codes / sizeof codes[0]));
    CHECK(WSS_acceptKey("dGhlIHNhbXBsZSBub25jZQ==", key) == LWIP_WS_OK &&
              strcmp(key, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0,
          "WSS_acceptKey gives RFC 6455's example answer");
    CHECK(WSS_acceptKey(NULL, key) == LWIP_WS_ERR_ARG, "WSS_acceptKey(NULL) is ERR_ARG");
}

static void checkEcho(Client *c)
{
    static const int sizes[] = {0, 1, 125, 126, 127, 65535, 65536};
    unsigned char *buf = (unsigned char *)malloc(BIG);
    size_t i;
    int isTxt;
    for (isTxt = 0; isTxt <= 1; isTxt++) {
        for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            int j;
            if (isTxt) {
                for (j = 0; j < sizes[i]; j++) {
                    buf[j] = (unsigned char)('a' + j % 26);
                }
            } else {
                pattern(buf, sizes[i], (int)i);
            }
            CHECK(echoOnce(c, buf, sizes[i], isTxt), "%s echo of %d bytes",
                  isTxt ? "text" : "binary", sizes[i]);
            CHECK(c->lastNul, "  its data is followed by a 0 byte (frameFp contract)");
        }
    }
    free(buf);
    CHECK(WSS_write(&c->wss, "x", BIG + 100, 0) == LWIP_WS_ERR_TOO_BIG,
          "a message above the send queue limit is ERR_TOO_BIG");
}

static void checkPing(Client *c)
{
    waitClient = c;
    CHECK(WSS_ping(&c->wss, "abc", 3) == LWIP_WS_OK && pollUntil(hasPong, 3000) &&
              c->pongLen == 3 && memcmp(c->pong, "abc", 3) == 0,
          "ping \"abc\" gets a pong with \"abc\"");
    CHECK(serverPings == 1, "the server's pingFp saw \"abc\"");
    CHECK(WSS_ping(&c->wss, "x", 126) == LWIP_WS_ERR_TOO_BIG, "a 126-byte ping is ERR_TOO_BIG");
}

/* Writes numbered 1000-byte messages without polling until the queue is full, then
 * checks that every accepted message comes back intact and in order. */
static void checkWouldBlock(Client *c)
{
    unsigned char msg[1000];
    int n, rc = LWIP_WS_OK;
    c->verifyLen = (int)sizeof msg;
    c->verifySeq = 0;
    for (n = 0; n < 10000; n++) {
        pattern(msg, (int)sizeof msg, n);
        rc = WSS_write(&c->wss, msg, (int)sizeof msg, 0);
        if (rc != LWIP_WS_OK) {
            break;
        }
    }
    CHECK(rc == LWIP_WS_ERR_WOULD_BLOCK && n > 0, "WOULD_BLOCK after %d queued messages", n);
    waitClient = c;
    waitFrames = c->frames + n;
    CHECK(pollUntil(hasFrames, 10000) && c->verifySeq == n && c->verifyBad == 0 && serverDrops == 0,
          "all %d accepted messages echoed intact and in order (%d bad, %d server drops)", n,
          c->verifyBad, serverDrops);
    CHECK(c->writable > 0, "writableFp ran after the would-block");
    c->verifyLen = 0;
}

/* Several clients from a static array at once, served from the static server pool. */
static void checkMany(void)
{
    int i, opened = 0, echoed = 0, closedOk = 0;
    char text[32];
    for (i = 0; i < CLIENTS; i++) {
        opened += openClient(&clients[i]);
    }
    CHECK(opened == CLIENTS, "%d clients open at once", opened);
    for (i = 0; i < CLIENTS; i++) {
        sprintf(text, "client %d", i);
        echoed += echoOnce(&clients[i], (const unsigned char *)text, (int)strlen(text), 1);
    }
    CHECK(echoed == CLIENTS, "each of them echoes its own text (%d)", echoed);
    for (i = 0; i < CLIENTS; i++) {
        closedOk += WSS_close(&clients[i].wss, 1000) == LWIP_WS_OK;
    }
    CHECK(closedOk == CLIENTS, "WSS_close starts each close handshake");
    closedOk = 0;
    for (i = 0; i < CLIENTS; i++) {
        waitClient = &clients[i];
        closedOk += pollUntil(isClosed, 6000) && clients[i].closeStatus == 1000;
        WSS_destructor(&clients[i].wss);
        free(clients[i].last);
        clients[i].last = NULL;
    }
    CHECK(closedOk == CLIENTS && pollUntil(serversIdle, 6000), "all closed with 1000");
}

static void onRequest(WSListener *l, HttpRequest *req)
{
    int i;
    (void)l;
    for (i = 0; i < SERVER_SLOTS && serverBusy[i]; i++) {
    }
    if (i == SERVER_SLOTS || strcmp(HttpRequest_getPath(req), "/echo") != 0) {
        callbackErrors += HttpRequest_reject(req, i == SERVER_SLOTS ? 503 : 404) != LWIP_WS_OK;
        return;
    }
    if (WSS_upgrade(&servers[i], req) == LWIP_WS_OK) {
        serverBusy[i] = 1;
        serverClose[i] = 0;
    }
}

/* Runs every check above; returns 0 when the network could not start. */
static int runSuite(void)
{
    Client *c = &clients[0];
    int i;
    WSSCB_constructor(&serverCb, onServerFrame, onServerClose, onServerPing);
    WSSCB_constructor(&clientCb, onClientFrame, onClientClose, NULL);
    clientCb.pongFp = onClientPong;
    clientCb.openFp = onClientOpen;
    clientCb.writableFp = onClientWritable;

    checkArguments();
    if (hostnet_start("loop") < 0) {
        CHECK(0, "hostnet_start(\"loop\")");
        return 0;
    }
    for (i = 0; i < SERVER_SLOTS; i++) {
        callbackErrors += WSS_constructor(&servers[i], &serverCb, 1024, 4096) != LWIP_WS_OK;
    }
    CHECK(WSListener_constructor(&listener, onRequest) == LWIP_WS_OK &&
              WSListener_listen(&listener, NULL, SUITE_PORT) == LWIP_WS_OK,
          "WSListener listens on port %d", SUITE_PORT);
    CHECK(openClient(c), "client opens ws://127.0.0.1:%d/echo", SUITE_PORT);
    CHECK(WSS_isValid(&c->wss) == 1, "WSS_isValid is 1 while open");
    CHECK(WSS_constructor(&c->wss, &clientCb, 16, 16) == LWIP_WS_ERR_STATE,
          "constructing a connected WSS again is ERR_STATE");
    checkEcho(c);
    checkPing(c);
    checkWouldBlock(c);
    CHECK(closeBothWays(c, 1000, 0), "client closes with 1000: both sides see 1000");
    CHECK(WSS_isValid(&c->wss) == 0, "WSS_isValid is 0 after the close");
    CHECK(openClient(c) && closeBothWays(c, 1000, 1), "server closes with 1000: both see 1000");
    CHECK(openClient(c) && closeBothWays(c, 4000, 0), "client closes with 4000: both see 4000");
    CHECK(openClient(c) && closeBothWays(c, 4000, 1), "server closes with 4000: both see 4000");
    WSS_destructor(&c->wss);
    free(c->last);
    c->last = NULL;
    checkMany();
    return 1;
}

/* Releases the server side; prints the verdict line. Returns the exit status. */
static int finishSuite(void)
{
    int i;
    WSListener_destructor(&listener);
    for (i = 0; i < SERVER_SLOTS; i++) {
        WSS_destructor(&servers[i]);
    }
    CHECK(callbackErrors == 0, "no call whose result was only counted failed (%d)",
          callbackErrors);
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

#endif /* LWIP_WS_TEST_API_SUITE_H */
