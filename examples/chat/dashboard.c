/*
 * The device dashboard (see dashboard.h): what a device does with lwip-ws, in small.
 *
 * The sensor: a timer on lwIP's timeouts (sys_timeout) takes DASHBOARD_RATE readings per
 * second (a smooth signal plus noise, with sequence numbers and the device's clock) and
 * pushes each to every open /sensor WebSocket as one text message:
 *     {"seq":123,"ms":45678,"v":21.37}
 * The timer keeps its own schedule (lwIP's sys_timeout counts from the time it is called,
 * which would drift with the main loop's latency): late readings are caught up at once.
 *
 * Commands from a page (text messages), acknowledged to the sender with the device's state
 * and announced to the other pages:
 *     "rate N"    (N: 1..200 readings per second)  -> {"ack":"rate 20","rate":20,"output":0}
 *     "output 0", "output 1", "toggle"             -> {"ack":"output 1","rate":20,"output":1}
 * others see {"state":...} with the same fields; a new page gets {"hello":...} first; a
 * bad command gets {"error":"..."}.
 *
 * Back-pressure: each connection's send queue is small (DASHBOARD_SEND_QUEUE). A reading
 * that does not fit is dropped for that page and counted (the page sees the gap in "seq");
 * the connection then skips readings until writableFp says its queue has drained. Nothing
 * is dropped without being counted; the counts are printed at exit.
 */
#include "dashboard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/sys.h"
#include "lwip/timeouts.h"
#include "dashboard_page.h" /* dashboard_html[], dashboard_html_len: from dashboard.html */

#ifndef DASHBOARD_CLIENTS
#define DASHBOARD_CLIENTS 8 /* pages open at once; more get 503 */
#endif
#ifndef DASHBOARD_RATE
#define DASHBOARD_RATE 50 /* readings per second at start */
#endif
#define RATE_MAX 200
#define SEND_QUEUE 4096  /* about a second of readings at the highest rate */
#define MAX_COMMAND 64   /* longer commands close the connection (1009) */
#define CATCH_UP 50      /* readings at most per timer call; further behind: skip ahead */

static WSSCB sensorCb;
static WSS conns[DASHBOARD_CLIENTS];
static char used[DASHBOARD_CLIENTS];    /* the slot holds a connection (until closeFp) */
static char blocked[DASHBOARD_CLIENTS]; /* a write would have blocked: until writableFp */
static char warned[DASHBOARD_CLIENTS];  /* another write error was logged */

static int rate = DASHBOARD_RATE;
static int output;
static int running;
static u32_t nextDue;   /* the next reading's time on sys_now()'s clock */
static u32_t rateRest;  /* carries 1000 / rate's remainder: the average rate is exact */
static u32_t seq;
static u32_t noise = 2463534242u;
static unsigned long readings, sent, dropped, skipped, commands, acksLost, refused;

/* sin(2 pi x) for x in turns, without libm (a parabola, refined): plenty for a plot. */
static float sine(float x)
{
    float y, a;
    x -= (float)(long)x; /* (-1, 1) */
    if (x < -0.5f) {
        x += 1.0f;
    } else if (x >= 0.5f) {
        x -= 1.0f;
    }
    a = x < 0 ? -x : x;
    y = 8.0f * x - 16.0f * x * a;
    a = y < 0 ? -y : y;
    return 0.225f * (y * a - y) + y;
}

/* The simulated sensor at time `ms`, in hundredths: about 20 +- 6 with some noise. */
static long sample(u32_t ms)
{
    float t = (float)(ms % 3600000u) / 1000.0f;
    float v = 20.0f + 4.0f * sine(t * 0.25f) + 1.5f * sine(t * 1.1f);
    noise ^= noise << 13;
    noise ^= noise >> 17;
    noise ^= noise << 5;
    v += (float)(noise % 61u) / 100.0f - 0.3f;
    return (long)(v * 100.0f + (v < 0 ? -0.5f : 0.5f));
}

/* Queues one text message for slot i; a reading is skipped while the slot waits for
 * writableFp. Returns 1 when queued. Failures are counted by the caller's kind. */
static int deliver(int i, const char *msg, int len, int isReading)
{
    int rc;
    if (isReading && blocked[i]) {
        skipped++;
        return 0;
    }
    rc = WSS_write(&conns[i], msg, len, 1);
    if (rc == LWIP_WS_OK) {
        sent++;
        return 1;
    }
    if (rc == LWIP_WS_ERR_STATE) { /* closing: it wants nothing more */
        return 0;
    }
    if (rc == LWIP_WS_ERR_WOULD_BLOCK) {
        blocked[i] = 1;
    } else if (!warned[i]) {
        warned[i] = 1;
        fprintf(stderr, "dashboard: slot %d: write: %s (counted, logged once)\n", i,
                WSS_errorText(rc));
    }
    if (isReading) {
        dropped++;
    } else {
        acksLost++;
    }
    return 0;
}

static void takeReading(u32_t due)
{
    char msg[64];
    long v = sample(due);
    int i, len;
    len = snprintf(msg, sizeof msg, "{\"seq\":%lu,\"ms\":%lu,\"v\":%s%ld.%02ld}",
                   (unsigned long)seq, (unsigned long)due, v < 0 ? "-" : "", labs(v) / 100,
                   labs(v) % 100);
    seq++;
    readings++;
    for (i = 0; i < DASHBOARD_CLIENTS; i++) {
        if (used[i]) {
            deliver(i, msg, len, 1);
        }
    }
}

/* The time to the next reading: 1000 / rate ms, its remainder carried over. */
static u32_t period(void)
{
    u32_t ms;
    rateRest += 1000u;
    ms = rateRest / (u32_t)rate;
    rateRest %= (u32_t)rate;
    return ms;
}

static void tick(void *arg)
{
    u32_t now = sys_now();
    int n;
    (void)arg;
    for (n = 0; n < CATCH_UP && (s32_t)(now - nextDue) >= 0; n++) {
        takeReading(nextDue);
        nextDue += period();
    }
    if ((s32_t)(now - nextDue) >= 0) { /* far behind (a stalled loop): start afresh */
        nextDue = now + period();
    }
    sys_timeout(nextDue - now, tick, NULL);
}

/* From now on at the current rate. */
static void reschedule(void)
{
    sys_untimeout(tick, NULL);
    rateRest = 0;
    nextDue = sys_now() + period();
    sys_timeout(nextDue - sys_now(), tick, NULL);
}

/* {"KIND":"WHAT","rate":R,"output":O} to slot `only`, or to every slot but `except`. */
static void sendState(const char *kind, const char *what, int only, int except)
{
    char msg[96];
    int i, len;
    len = snprintf(msg, sizeof msg, "{\"%s\":\"%s\",\"rate\":%d,\"output\":%d}", kind, what,
                   rate, output);
    for (i = 0; i < DASHBOARD_CLIENTS; i++) {
        if (used[i] && i != except && (only < 0 || i == only)) {
            deliver(i, msg, len, 0);
        }
    }
}

static void sendError(int slot, const char *why)
{
    char msg[128];
    int len = snprintf(msg, sizeof msg,
                       "{\"error\":\"%s\",\"help\":\"rate 1..%d, output 0|1, toggle\"}", why,
                       RATE_MAX);
    deliver(slot, msg, len, 0);
}

/* One command; data is NUL-terminated (frameFp's guarantee). */
static void onCommand(WSSCB *o, WSS *wss, void *data, int len, int isTxt)
{
    const char *cmd = (const char *)data;
    int slot = (int)(wss - conns);
    char what[24];
    (void)o;
    commands++;
    if (!isTxt || (int)strlen(cmd) != len) {
        sendError(slot, "commands are text");
        return;
    }
    if (strncmp(cmd, "rate ", 5) == 0) {
        char *end;
        long r = strtol(cmd + 5, &end, 10);
        if (end == cmd + 5 || *end != '\0' || r < 1 || r > RATE_MAX) {
            sendError(slot, "rate must be a number from 1 to 200");
            return;
        }
        rate = (int)r;
        reschedule();
        snprintf(what, sizeof what, "rate %d", rate);
    } else if (strcmp(cmd, "output 0") == 0 || strcmp(cmd, "output 1") == 0 ||
               strcmp(cmd, "toggle") == 0) {
        output = cmd[0] == 't' ? !output : cmd[7] == '1';
        printf("dashboard: output %s\n", output ? "on" : "off"); /* the device's "LED" */
        snprintf(what, sizeof what, "output %d", output);
    } else {
        sendError(slot, "unknown command");
        return;
    }
    sendState("ack", what, slot, -1);
    sendState("state", what, -1, slot);
}

static void onClose(WSSCB *o, WSS *wss, int status)
{
    int slot = (int)(wss - conns);
    (void)o;
    (void)status;
    used[slot] = 0; /* the last callback: the slot is free again */
}

static void onWritable(WSSCB *o, WSS *wss)
{
    (void)o;
    blocked[wss - conns] = 0; /* its queue drained to half: readings resume */
}

/* Answer a request with an error status; reports when even that could not be sent. */
static void refuse(HttpRequest *req, int status)
{
    int rc = HttpRequest_reject(req, status);
    if (rc != LWIP_WS_OK) {
        fprintf(stderr, "dashboard: answer %d: %s\n", status, WSS_errorText(rc));
    }
}

static void upgrade(HttpRequest *req)
{
    int i, rc;
    for (i = 0; i < DASHBOARD_CLIENTS && used[i]; i++) {
    }
    if (i == DASHBOARD_CLIENTS) {
        refused++;
        refuse(req, 503);
        return;
    }
    WSS_destructor(&conns[i]); /* a previous connection's state, if any */
    rc = WSS_constructor(&conns[i], &sensorCb, MAX_COMMAND, MAX_COMMAND);
    if (rc == LWIP_WS_OK) {
        rc = WSS_setMaxMessage(&conns[i], MAX_COMMAND);
    }
    if (rc == LWIP_WS_OK) {
        rc = WSS_setSendQueue(&conns[i], SEND_QUEUE);
    }
    if (rc != LWIP_WS_OK) {
        fprintf(stderr, "dashboard: slot %d: %s\n", i, WSS_errorText(rc));
        refuse(req, 500);
        return;
    }
    blocked[i] = 0;
    warned[i] = 0;
    if (WSS_upgrade(&conns[i], req) == LWIP_WS_OK) { /* else the library answered 4xx */
        used[i] = 1;
        sendState("hello", "sensor", i, -1);
    }
}

void dashboard_start(void)
{
    WSSCB_constructor(&sensorCb, onCommand, onClose, NULL);
    sensorCb.writableFp = onWritable;
    running = 1;
    reschedule();
}

int dashboard_request(HttpRequest *req, const char *path)
{
    int rc;
    if (strcmp(path, "/sensor") == 0) {
        if (HttpRequest_isWebSocket(req)) {
            upgrade(req);
        } else {
            refuse(req, 400);
        }
        return 1;
    }
    if (strcmp(path, "/") != 0 && strcmp(path, "/index.html") != 0) {
        return 0;
    }
    rc = HttpRequest_respondStatic(req, 200, "text/html; charset=utf-8", dashboard_html,
                                   (int)dashboard_html_len);
    if (rc != LWIP_WS_OK) { /* unanswered: the library sends 404 */
        fprintf(stderr, "dashboard: page: %s\n", WSS_errorText(rc));
    }
    return 1;
}

void dashboard_close(void)
{
    int i;
    if (running) {
        sys_untimeout(tick, NULL);
        running = 0;
    }
    for (i = 0; i < DASHBOARD_CLIENTS; i++) {
        if (used[i] && WSS_close(&conns[i], 1001) != LWIP_WS_OK) {
            WSS_destructor(&conns[i]); /* closing already: abort it */
            used[i] = 0;
        }
    }
}

int dashboard_openCount(void)
{
    int i, n = 0;
    for (i = 0; i < DASHBOARD_CLIENTS; i++) {
        n += used[i];
    }
    return n;
}

void dashboard_release(void)
{
    int i;
    for (i = 0; i < DASHBOARD_CLIENTS; i++) {
        WSS_destructor(&conns[i]);
        used[i] = 0;
    }
    printf("dashboard: %lu readings (last rate %d/s), %lu messages sent, %lu readings "
           "dropped (queue full or no heap) and %lu skipped until writable, %lu commands, "
           "%lu acks lost, %lu refused (full)\n",
           readings, rate, sent, dropped, skipped, commands, acksLost, refused);
}
