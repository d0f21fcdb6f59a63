/*
 * lwip-ws under the real FreeRTOS kernel (POSIX simulator) with lwIP's tcpip thread:
 * application tasks write and read through the task API while the tcpip thread runs the
 * same connections. Driven from the host by tests/freertos/peer.py (Python websockets)
 * through libslirp (127.0.0.1:PORT -> 10.0.2.15:80).
 *
 *   app serve PORT      scenarios chosen by the request path:
 *     /one    "go N" -> 4 writer tasks (priorities 1..4) write N messages each to this
 *             connection with WSS_writeBlocking, then "done t<id> <sent> <rc>"
 *     /many   the first of K connections gets "go N K" -> 4 writer tasks write N messages
 *             each to all K connections
 *     /block  "go" -> 2 writer tasks block in WSS_writeBlocking (small send queue, the
 *             peer does not read) and 1 reader blocks in WSS_read; the peer then drops
 *             the connection: all three must return LWIP_WS_ERR_CLOSED at once
 *     /echo   a task reads every message with WSS_read (queue of 8: a fast peer pauses
 *             reading) and writes it back with WSS_writeBlocking, until the peer closes
 *     /destroy "go" -> a reader blocks in WSS_read; the owner calls WSS_destructor meanwhile:
 *             the reader returns LWIP_WS_ERR_CLOSED at once, later calls
 *             LWIP_WS_ERR_NOT_CONSTRUCTED (the peer sees the TCP reset)
 *     /big    the peer sends one 1 MiB binary message; a task reads it with WSS_readPiece
 *             through a 4 KiB buffer (streaming mode, queue of 8 pieces) and answers
 *             "big <bytes> <bad>"
 *     /quit   final checks (no connection, no task-side heap), exit
 *   app misuse          a task calls WSS_write without the core lock: the check fires
 *
 * /block, /echo, /destroy and /big (connections that end, reads) are in app_ends.c.
 *
 * Built with LWIP_TCPIP_CORE_LOCKING 0 (-DLWIPWS_TEST_NO_CORE_LOCKING), the same
 * scenarios run with the task calls posted to the tcpip thread; in_core() (app.h) is then
 * tcpip_callback + a semaphore instead of the core lock.
 *
 * Results are lines on stdout starting with "PASS" or "FAIL".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lwip/memp.h"
#include "lwip/stats.h"
#include "lwip/tcpip.h"

#include "app.h"

#define PRIO_ORCH (tskIDLE_PRIORITY + 5)

enum kind { K_ONE, K_MANY, K_BLOCK, K_ECHO, K_DESTROY, K_BIG, K_QUIT };

WSS pool[MAXC];
int used[MAXC];   /* in core context */
int status_of[MAXC];
double closed_at[MAXC]; /* wall clock of closeFp */
volatile int failures;
static WSSCB cb;
static WSListener listener;
static struct netif nif;
static QueueHandle_t accepted; /* (kind << 8) | slot */
static int host_port;

/* ---- callbacks (tcpip thread, core lock held) ---------------------------------------------- */
static void onFrame(WSSCB *o, WSS *wss, void *data, int len, int isTxt)
{
    (void)o; (void)data; (void)isTxt;
    FAIL("frameFp on slot %d (%d bytes): messages must go to the read queue", (int)(wss - pool), len);
}

double wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void onChunk(WSSCB *o, WSS *wss, void *data, int len, int isTxt, uint64_t offset, int last)
{
    (void)o; (void)data; (void)isTxt; (void)last;
    FAIL("chunkFp on slot %d (%d bytes at %llu): pieces must go to the read queue",
         (int)(wss - pool), len, (unsigned long long)offset);
}

static void onClose(WSSCB *o, WSS *wss, int status)
{
    (void)o;
    status_of[wss - pool] = status;
    closed_at[wss - pool] = wall_ms();
}

static void onRequest(WSListener *l, HttpRequest *req)
{
    (void)l;
    const char *path = HttpRequest_getPath(req);
    int kind = !strcmp(path, "/one") ? K_ONE : !strcmp(path, "/many") ? K_MANY
             : !strcmp(path, "/block") ? K_BLOCK : !strcmp(path, "/echo") ? K_ECHO
             : !strcmp(path, "/destroy") ? K_DESTROY : !strcmp(path, "/big") ? K_BIG
             : !strcmp(path, "/quit") ? K_QUIT : -1;
    int i;
    for (i = 0; i < MAXC && used[i]; i++) {
    }
    if (kind < 0 || i == MAXC) {
        if (HttpRequest_reject(req, kind < 0 ? 404 : 503) != LWIP_WS_OK) {
            FAIL("reject %s", path);
        }
        return;
    }
    if (WSS_constructor(&pool[i], &cb, 1024, 4096) != LWIP_WS_OK ||
        (kind == K_BLOCK && WSS_setSendQueue(&pool[i], 2048) != LWIP_WS_OK)) {
        FAIL("construct slot %d", i);
    }
    if (kind == K_BIG) { /* pieces as they arrive, into the read queue */
        if (WSS_setStreaming(&pool[i], 1) != LWIP_WS_OK ||
            WSS_setMaxMessage(&pool[i], 2 * BIG_BYTES) != LWIP_WS_OK) {
            FAIL("streaming slot %d", i);
        }
    }
    if (WSS_upgrade(&pool[i], req) != LWIP_WS_OK) {
        return;
    }
    int rc = WSS_setReadQueue(&pool[i], 8);
    if (rc != LWIP_WS_OK) {
        FAIL("WSS_setReadQueue: %s", WSS_errorText(rc));
    }
    used[i] = 1;
    status_of[i] = 0;
    int ev = (kind << 8) | i;
    if (xQueueSend(accepted, &ev, 0) != pdTRUE) {
        FAIL("accept queue full");
    }
}

/* ---- writer tasks ----------------------------------------------------------------------------- */

/* The message a writer sends: "t<id> <seq> " then a payload the peer recomputes. */
static int make_message(char *buf, int id, int seq)
{
    int n = sprintf(buf, "t%d %d ", id, seq);
    int len = (seq * 37 + id * 101) % 1500 + 1;
    for (int j = 0; j < len; j++) {
        buf[n + j] = (char)('a' + (id * 7 + seq + j) % 26);
    }
    return n + len;
}

static void writer_task(void *arg)
{
    Writer *w = arg;
    static char bufs[WRITERS + 2][4096];
    char *buf = bufs[w->id];
    w->rc = LWIP_WS_OK;
    w->sent = 0;
    for (int seq = 0; seq < w->n && w->rc == LWIP_WS_OK; seq++) {
        for (int k = 0; k < w->count && w->rc == LWIP_WS_OK; k++) {
            int len;
            if (w->msglen > 0) {
                memset(buf, 'x', (size_t)w->msglen);
                len = w->msglen;
            } else {
                len = make_message(buf, w->id, seq);
            }
            w->rc = WSS_writeBlocking(&pool[w->targets[k]], buf, len, 1, w->timeout);
        }
        if (w->rc == LWIP_WS_OK) {
            w->sent++;
        }
    }
    if (w->msglen == 0) {
        for (int k = 0; k < w->count; k++) {
            int len = sprintf(buf, "done t%d %d %d", w->id, w->sent, w->rc);
            int rc = WSS_writeBlocking(&pool[w->targets[k]], buf, len, 1, 10000);
            if (rc != LWIP_WS_OK) {
                FAIL("writer %d: done message: %s", w->id, WSS_errorText(rc));
            }
        }
    }
    w->ended_at = wall_ms();
    xSemaphoreGive(w->done);
    vTaskDelete(NULL);
}

Writer writers[WRITERS + 2];

/* Starts `nw` writers at priorities 1..nw on `targets`, waits for all (bounded). */
int run_writers(int nw, const int *targets, int count, int n, int msglen, uint32_t timeout,
                       uint32_t wait_ms)
{
    SemaphoreHandle_t done = xSemaphoreCreateCounting(nw, 0);
    for (int t = 0; t < nw; t++) {
        Writer *w = &writers[t];
        memset(w, 0, sizeof *w);
        w->id = t;
        w->n = n;
        w->count = count;
        memcpy(w->targets, targets, sizeof(int) * (size_t)count);
        w->timeout = timeout;
        w->msglen = msglen;
        w->done = done;
        char name[24];
        snprintf(name, sizeof name, "writer%d", t);
        if (xTaskCreate(writer_task, name, TASK_STACK, w, tskIDLE_PRIORITY + 1 + (UBaseType_t)t,
                        NULL) != pdPASS) {
            FAIL("xTaskCreate writer");
            return -1;
        }
    }
    int finished = 0;
    for (int t = 0; t < nw; t++) {
        if (xSemaphoreTake(done, pdMS_TO_TICKS(wait_ms)) == pdTRUE) {
            finished++;
        }
    }
    vSemaphoreDelete(done);
    return finished == nw ? 0 : -1;
}

double destroyed_at;

void destroy_slot(void *arg) /* core */
{
    int i = *(int *)arg;
    WSS_destructor(&pool[i]);
    destroyed_at = wall_ms();
    used[i] = 0;
}

/* Reads until the connection ended (bounded), then releases its storage. */
void finish(int i, const char *what)
{
    char buf[256];
    int rc = 0;
    for (int k = 0; k < 100; k++) {
        rc = WSS_read(&pool[i], buf, sizeof buf, NULL, 10000);
        if (rc == LWIP_WS_ERR_CLOSED || rc == LWIP_WS_ERR_TIMEOUT) {
            break;
        }
    }
    if (rc != LWIP_WS_ERR_CLOSED) {
        FAIL("%s: slot %d: WSS_read at the end gave %s", what, i, WSS_errorText(rc));
    }
    in_core(destroy_slot, &i);
}

/* Waits for "go ..." on slot i. */
int read_go(int i, char *buf, int cap)
{
    int isTxt = -1;
    int rc = WSS_read(&pool[i], buf, cap - 1, &isTxt, 10000);
    if (rc < 0 || isTxt != 1 || strncmp(buf, "go", 2) != 0) {
        FAIL("slot %d: expected \"go\", got rc %d (%s)", i, rc, rc < 0 ? WSS_errorText(rc) : "");
        return -1;
    }
    buf[rc] = 0;
    return 0;
}

static int next_event(int want_kind, uint32_t ms)
{
    int ev;
    if (xQueueReceive(accepted, &ev, pdMS_TO_TICKS(ms)) != pdTRUE) {
        return -1;
    }
    if ((ev >> 8) != want_kind) {
        FAIL("unexpected connection kind %d", ev >> 8);
        return -1;
    }
    return ev & 0xff;
}

static void scenario_one(int i)
{
    char buf[64];
    if (read_go(i, buf, sizeof buf) != 0) {
        return;
    }
    int n = atoi(buf + 3);
    TickType_t t0 = xTaskGetTickCount();
    if (run_writers(WRITERS, &i, 1, n, 0, 10000, 60000) != 0) {
        FAIL("one: writers did not finish");
    }
    for (int t = 0; t < WRITERS; t++) {
        if (writers[t].rc != LWIP_WS_OK || writers[t].sent != n) {
            FAIL("one: writer %d sent %d of %d: %s", t, writers[t].sent, n,
                 WSS_errorText(writers[t].rc));
        }
    }
    printf("one: %d tasks x %d messages in %u ms\n", WRITERS, n,
           (unsigned)((xTaskGetTickCount() - t0) * portTICK_PERIOD_MS));
    finish(i, "one");
}

static void scenario_many(int first)
{
    char buf[64];
    int slots[MAXC];
    if (read_go(first, buf, sizeof buf) != 0) {
        return;
    }
    int n = 0, k = 0;
    if (sscanf(buf, "go %d %d", &n, &k) != 2 || k < 1 || k > MAXC) {
        FAIL("many: bad command %s", buf);
        return;
    }
    slots[0] = first;
    for (int j = 1; j < k; j++) {
        slots[j] = next_event(K_MANY, 5000);
        if (slots[j] < 0) {
            FAIL("many: only %d of %d connections", j, k);
            return;
        }
    }
    TickType_t t0 = xTaskGetTickCount();
    if (run_writers(WRITERS, slots, k, n, 0, 10000, 120000) != 0) {
        FAIL("many: writers did not finish");
    }
    for (int t = 0; t < WRITERS; t++) {
        if (writers[t].rc != LWIP_WS_OK || writers[t].sent != n) {
            FAIL("many: writer %d sent %d of %d: %s", t, writers[t].sent, n,
                 WSS_errorText(writers[t].rc));
        }
    }
    printf("many: %d tasks x %d messages x %d connections in %u ms\n", WRITERS, n, k,
           (unsigned)((xTaskGetTickCount() - t0) * portTICK_PERIOD_MS));
    for (int j = 0; j < k; j++) {
        finish(slots[j], "many");
    }
}

static uint32_t end_heap;
static long end_pbufs;

static void release_all(void *arg) /* core */
{
    (void)arg;
    for (int i = 0; i < MAXC; i++) {
        if (used[i]) {
            WSS_destructor(&pool[i]);
            used[i] = 0;
        }
    }
    end_heap = lwipws_heapBytes();
    end_pbufs = (long)lwip_stats.memp[MEMP_PBUF_POOL]->used;
}

static void quit(void)
{
    in_core(release_all, NULL);
    uint32_t heap = end_heap;
    long pbufs = end_pbufs;
    if (heap == 0) {
        PASS("end: the library holds no heap (lwipws_heapBytes 0)");
    } else {
        FAIL("end: lwipws_heapBytes %u", (unsigned)heap);
    }
    printf("end: %ld pool pbufs in use, %d failures\n", pbufs, failures);
    fflush(NULL);
    _exit(failures == 0 ? 0 : 1);
}

static void orchestrator(void *arg)
{
    (void)arg;
    for (int round = 0; round < 1000; round++) {
        int ev;
        if (xQueueReceive(accepted, &ev, pdMS_TO_TICKS(1000)) != pdTRUE) {
            continue;
        }
        int kind = ev >> 8, i = ev & 0xff;
        switch (kind) {
        case K_ONE: scenario_one(i); break;
        case K_MANY: scenario_many(i); break;
        case K_BLOCK: scenario_block(i); break;
        case K_ECHO: scenario_echo(i); break;
        case K_DESTROY: scenario_destroy(i); break;
        case K_BIG: scenario_big(i); break;
        default: quit(); break;
        }
    }
    FAIL("orchestrator: too many rounds");
    _exit(1);
}

static void watchdog(void *arg)
{
    (void)arg;
    vTaskDelay(pdMS_TO_TICKS(300000));
    printf("FAIL watchdog: 300 s\n");
    fflush(NULL);
    _exit(3);
}

/* ---- misuse: a task calls the library without the core lock ---------------------------------- */
static WSS misuse_wss;
static WSSCB misuse_cb;
static int misuse_rc, misuse_valid;

static void misuse_construct(void *arg) /* core */
{
    (void)arg;
    (void)WSSCB_constructor(&misuse_cb, onFrame, onClose, NULL);
    misuse_rc = WSS_constructor(&misuse_wss, &misuse_cb, 256, 256);
    misuse_valid = WSS_isValid(&misuse_wss);
}

static void misuse_task(void *arg)
{
    (void)arg;
    in_core(misuse_construct, NULL);
    printf("locked calls: constructor %s, isValid %d\n", WSS_errorText(misuse_rc), misuse_valid);
    fflush(stdout);
    int rc = WSS_write(&misuse_wss, "x", 1, 1); /* no lock: LWIP_ASSERT_CORE_LOCKED fires */
    printf("unlocked call returned %s: the check did not fire\n", WSS_errorText(rc));
    fflush(NULL);
    _exit(0);
}

static int nested_rc;

static void start_listener(void *arg) /* core */
{
    int *rc = arg;
    /* A task call made in core context (the tcpip thread itself when LWIP_TCPIP_CORE_LOCKING
     * is 0, thanks to LWIP_WS_IN_TCPIP_THREAD(); a task holding the recursive core lock when
     * 1) runs at once instead of waiting for itself. */
    static WSS never;
    nested_rc = WSS_closeFromTask(&never, 1000);
    (void)WSSCB_constructor(&cb, onFrame, onClose, NULL);
    cb.chunkFp = onChunk;
    *rc = WSListener_constructor(&listener, onRequest);
    if (*rc == LWIP_WS_OK) {
        *rc = WSListener_setLimits(&listener, 64, 4096);
    }
    if (*rc == LWIP_WS_OK) {
        *rc = WSListener_listen(&listener, NULL, 80);
    }
}

static void tcpip_up(void *arg)
{
    xSemaphoreGive((SemaphoreHandle_t)arg);
}

/* ---- start-up ------------------------------------------------------------------------------------ */
static void start_task(void *arg)
{
    const char *mode = arg;
    SemaphoreHandle_t up = xSemaphoreCreateBinary();
    tcpip_init(tcpip_up, up);
    if (xSemaphoreTake(up, pdMS_TO_TICKS(5000)) != pdTRUE) {
        printf("FAIL tcpip_init did not finish\n");
        fflush(NULL);
        _exit(2);
    }
    if (!strcmp(mode, "misuse")) {
        xTaskCreate(misuse_task, "misuse", TASK_STACK, NULL, tskIDLE_PRIORITY + 2, NULL);
        vTaskDelete(NULL);
        return;
    }
    if (posix_slirp_start(&nif, host_port, 80, configMAX_PRIORITIES - 2) != 0) {
        printf("FAIL slirp netif\n");
        fflush(NULL);
        _exit(2);
    }
    accepted = xQueueCreate(MAXC * 2, sizeof(int));
    int rc = 0;
    in_core(start_listener, &rc);
    if (nested_rc == LWIP_WS_ERR_NOT_CONSTRUCTED) {
        PASS("a task call made in core context returns at once (WSS_closeFromTask: %s)",
             WSS_errorText(nested_rc));
    } else {
        FAIL("a task call made in core context returned %s", WSS_errorText(nested_rc));
    }
    if (rc != LWIP_WS_OK) {
        printf("FAIL listen: %s\n", WSS_errorText(rc));
        fflush(NULL);
        _exit(2);
    }
    xTaskCreate(orchestrator, "orch", TASK_STACK, NULL, PRIO_ORCH, NULL);
    printf("ready 127.0.0.1:%d\n", host_port);
    fflush(stdout);
    vTaskDelete(NULL);
}

int main(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "serve") && strcmp(argv[1], "misuse")) ||
        (!strcmp(argv[1], "serve") && argc < 3)) {
        fprintf(stderr, "usage: app serve PORT | app misuse\n");
        return 2;
    }
    if (argc > 2) {
        host_port = atoi(argv[2]);
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    xTaskCreate(watchdog, "watchdog", TASK_STACK, NULL, configMAX_PRIORITIES - 1, NULL);
    xTaskCreate(start_task, "start", TASK_STACK, argv[1], tskIDLE_PRIORITY + 5, NULL);
    vTaskStartScheduler();
    return 1;
}
