/*
 * Figures of the task calls under the real FreeRTOS kernel (POSIX simulator) with lwIP's
 * tcpip thread (scripts/bench-freertos). A peer (Python websockets, through libslirp)
 * connects to /bench, sends 8 binary messages of 100 bytes after "ready", then reads
 * everything until the close. Printed, not asserted:
 *   - the cost of one WSS_write of 64 bytes (best of 5 rounds of 2000) from core context (a loop inside one core
 *     section), from a task with WSS_writeBlocking (under the core lock, or posted to the
 *     tcpip thread when built with LWIP_TCPIP_CORE_LOCKING 0), and from a task taking
 *     the core lock itself around WSS_write;
 *   - the stack a task using the blocking calls needs (a painted stack, as the kernel's
 *     high-water mark does it: on this port tasks run on their pthreads' stacks);
 *   - the RAM of a connection's task-side state and of each queued message.
 *
 *   bench PORT
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "FreeRTOS.h"
#include "queue.h"
#include "semphr.h"
#include "task.h"

#include "lwip/stats.h"
#include "lwip/tcpip.h"

#include "lwip_ws.h"
#include "port_posix.h"

#define N 2000
#define ROUNDS 5
#define MSG 64
#define QUEUED 8
#define QUEUED_LEN 100
#define STACK_WORDS (configMINIMAL_STACK_SIZE * 4)

static WSS conn;
static WSSCB cb;
static WSListener listener;
static struct netif nif;
static QueueHandle_t accepted;
static int host_port;
static const char payload[MSG] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde";

#if LWIP_TCPIP_CORE_LOCKING
#define MODE "core lock"
#else
#define MODE "posted"
#endif

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Heap in use: C malloc (the library's allocations, the kernel's objects) + lwIP's heap. */
static long heap_now(void)
{
    return (long)mallinfo2().uordblks + (long)lwip_stats.mem.used;
}

static long side_bytes;
static long queue_before;

static void onFrame(WSSCB *o, WSS *wss, void *data, int len, int isTxt)
{
    (void)o; (void)wss; (void)data; (void)len; (void)isTxt;
}

static void onClose(WSSCB *o, WSS *wss, int status)
{
    (void)o; (void)wss; (void)status;
}

static void onRequest(WSListener *l, HttpRequest *req) /* core */
{
    (void)l;
    if (WSS_constructor(&conn, &cb, 1024, 4096) != LWIP_WS_OK ||
        WSS_setSendQueue(&conn, 8 * 1024 * 1024) != LWIP_WS_OK) {
        printf("bench: cannot set up the connection\n");
        _exit(1);
    }
    if (WSS_upgrade(&conn, req) != LWIP_WS_OK) {
        return;
    }
    long before = heap_now();
    if (WSS_setReadQueue(&conn, QUEUED) != LWIP_WS_OK) {
        printf("FAIL WSS_setReadQueue\n");
    }
    side_bytes = heap_now() - before;
    int one = 1;
    (void)xQueueSend(accepted, &one, 0);
}

/* ---- WSS_write from core context: N calls inside one core section ------------------------ */
static double core_ns;

static void core_writes(void *arg) /* core */
{
    (void)arg;
    double t0 = now_ns();
    for (int k = 0; k < N; k++) {
        if (WSS_write(&conn, payload, MSG, 0) != LWIP_WS_OK) {
            printf("FAIL core WSS_write %d\n", k);
            break;
        }
    }
    core_ns = (now_ns() - t0) / N;
}

static void measure_queue(void *arg) /* core */
{
    long *out = arg;
    *out = heap_now() - (long)lwipws_heapBytes();
}

/* ---- the stack of a task using the blocking calls --------------------------------------------- */
/* On the POSIX port a task runs on its pthread's stack, not on the stack the kernel gave it,
 * so uxTaskGetStackHighWaterMark sees only the first frame. The same method by hand: paint
 * PAINT bytes below the measuring frame, make the calls, find the deepest byte changed. */
#define PAINT (64 * 1024)
#define GAP 512 /* left unpainted for memset's own frame */
static UBaseType_t stack_left;
static long stack_used;
static SemaphoreHandle_t stack_done;

static __attribute__((noinline)) unsigned char *paint(void)
{
    uintptr_t frame = (uintptr_t)__builtin_frame_address(0);
    unsigned char *top = (unsigned char *)(frame - GAP);
    memset(top - PAINT, 0xA5, PAINT);
    return top;
}

static __attribute__((noinline)) void blocking_calls(void)
{
    char buf[256];
    int isTxt, last;
    uint64_t offset;
    for (int k = 0; k < QUEUED; k++) {
        int rc = k % 2 ? WSS_read(&conn, buf, sizeof buf, &isTxt, 5000)
                       : WSS_readPiece(&conn, buf, sizeof buf, &isTxt, &offset, &last, 5000);
        if (rc < 0) {
            printf("FAIL read %d: %s\n", k, WSS_errorText(rc));
        }
        rc = WSS_writeBlocking(&conn, buf, rc < 0 ? 0 : rc, 0, 5000);
        if (rc != LWIP_WS_OK) {
            printf("FAIL writeBlocking: %s\n", WSS_errorText(rc));
        }
    }
}

static void stack_task(void *arg)
{
    (void)arg;
    unsigned char *top = paint();
    blocking_calls();
    unsigned char *p = top - PAINT;
    while (p < top && *p == 0xA5) {
        p++;
    }
    stack_used = (long)(top - p) + GAP;
    stack_left = uxTaskGetStackHighWaterMark(NULL);
    xSemaphoreGive(stack_done);
    vTaskDelete(NULL);
}

static void wait_drained(void)
{
    vTaskDelay(pdMS_TO_TICKS(200));
}

static void bench_task(void *arg)
{
    (void)arg;
    int one;
    if (xQueueReceive(accepted, &one, pdMS_TO_TICKS(10000)) != pdTRUE) {
        printf("FAIL no connection\n");
        _exit(1);
    }
    /* The peer sends its messages after "ready"; the queue fills and pauses reading. */
    posix_in_core(measure_queue, &queue_before);
    if (WSS_writeBlocking(&conn, "ready", 5, 1, 5000) != LWIP_WS_OK) {
        printf("FAIL ready\n");
    }
    vTaskDelay(pdMS_TO_TICKS(500));
    long queue_after;
    posix_in_core(measure_queue, &queue_after);

    stack_done = xSemaphoreCreateBinary();
    xTaskCreate(stack_task, "stack", STACK_WORDS, NULL, tskIDLE_PRIORITY + 2, NULL);
    xSemaphoreTake(stack_done, pdMS_TO_TICKS(20000));
    wait_drained();

    /* Each figure: the best of ROUNDS rounds of N calls (the host is shared). */
    double best_core = 1e18, task_ns = 1e18, locked_ns = 1e18;
    for (int r = 0; r < ROUNDS; r++) {
        posix_in_core(core_writes, NULL);
        best_core = core_ns < best_core ? core_ns : best_core;
        wait_drained();

        double t0 = now_ns();
        for (int k = 0; k < N; k++) {
            int rc = WSS_writeBlocking(&conn, payload, MSG, 0, 5000);
            if (rc != LWIP_WS_OK) {
                printf("FAIL task WSS_writeBlocking %d: %s\n", k, WSS_errorText(rc));
                break;
            }
        }
        double ns = (now_ns() - t0) / N;
        task_ns = ns < task_ns ? ns : task_ns;
        wait_drained();

#if LWIP_TCPIP_CORE_LOCKING
        t0 = now_ns();
        for (int k = 0; k < N; k++) {
            LOCK_TCPIP_CORE();
            int rc = WSS_write(&conn, payload, MSG, 0);
            UNLOCK_TCPIP_CORE();
            if (rc != LWIP_WS_OK) {
                printf("FAIL locked WSS_write %d\n", k);
                break;
            }
        }
        ns = (now_ns() - t0) / N;
        locked_ns = ns < locked_ns ? ns : locked_ns;
        wait_drained();
#endif
    }
    core_ns = best_core;
    (void)locked_ns;
    if (WSS_closeFromTask(&conn, 1000) != LWIP_WS_OK) {
        printf("bench: close: not sent\n");
    }

    printf("mode: LWIP_TCPIP_CORE_LOCKING %d (%s)\n", LWIP_TCPIP_CORE_LOCKING, MODE);
    printf("WSS_write %d B from core context (tcpip thread):          %8.2f us/call\n", MSG,
           core_ns / 1e3);
    printf("WSS_writeBlocking %d B from a task (%s):%*s%8.2f us/call\n", MSG, MODE,
           (int)(20 - strlen(MODE)), "", task_ns / 1e3);
#if LWIP_TCPIP_CORE_LOCKING
    printf("LOCK_TCPIP_CORE + WSS_write %d B + UNLOCK from a task:    %8.2f us/call\n", MSG,
           locked_ns / 1e3);
#endif
    printf("stack of a task using WSS_read/WSS_readPiece/WSS_writeBlocking: %ld B (deepest "
           "byte changed below the calling frame; x86-64 frames, plus a signal frame of the "
           "port's tick when one lands there; the kernel's high-water mark sees %lu B on this "
           "port, whose tasks run on pthread stacks)\n", stack_used,
           (unsigned long)((STACK_WORDS - stack_left) * sizeof(StackType_t)));
    printf("task-side state per connection (first task call or WSS_setReadQueue): %ld B "
           "(2 semaphores + state)\n", side_bytes);
    printf("receive queue: %d queued messages of %d B: %ld B, %ld B per message beyond its "
           "payload\n", QUEUED, QUEUED_LEN, queue_after - queue_before,
           (queue_after - queue_before) / QUEUED - QUEUED_LEN);
    fflush(NULL);
    vTaskDelay(pdMS_TO_TICKS(300));
    _exit(0);
}

static void start_listener(void *arg) /* core */
{
    int *rc = arg;
    (void)WSSCB_constructor(&cb, onFrame, onClose, NULL);
    *rc = WSListener_constructor(&listener, onRequest);
    if (*rc == LWIP_WS_OK) {
        *rc = WSListener_listen(&listener, NULL, 80);
    }
}

static void tcpip_up(void *arg)
{
    xSemaphoreGive((SemaphoreHandle_t)arg);
}

static void start_task(void *arg)
{
    (void)arg;
    SemaphoreHandle_t up = xSemaphoreCreateBinary();
    tcpip_init(tcpip_up, up);
    if (xSemaphoreTake(up, pdMS_TO_TICKS(5000)) != pdTRUE ||
        posix_slirp_start(&nif, host_port, 80, configMAX_PRIORITIES - 2) != 0) {
        printf("FAIL start\n");
        _exit(2);
    }
    accepted = xQueueCreate(2, sizeof(int));
    int rc = 0;
    posix_in_core(start_listener, &rc);
    if (rc != LWIP_WS_OK) {
        printf("FAIL listen: %s\n", WSS_errorText(rc));
        _exit(2);
    }
    xTaskCreate(bench_task, "bench", STACK_WORDS, NULL, tskIDLE_PRIORITY + 3, NULL);
    printf("ready 127.0.0.1:%d\n", host_port);
    fflush(stdout);
    vTaskDelete(NULL);
}

static void watchdog(void *arg)
{
    (void)arg;
    vTaskDelay(pdMS_TO_TICKS(120000));
    printf("FAIL watchdog: 120 s\n");
    fflush(NULL);
    _exit(3);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench PORT\n");
        return 2;
    }
    host_port = atoi(argv[1]);
    setvbuf(stdout, NULL, _IOLBF, 0);
    xTaskCreate(watchdog, "watchdog", configMINIMAL_STACK_SIZE, NULL, configMAX_PRIORITIES - 1,
                NULL);
    xTaskCreate(start_task, "start", STACK_WORDS, NULL, tskIDLE_PRIORITY + 5, NULL);
    vTaskStartScheduler();
    return 1;
}
