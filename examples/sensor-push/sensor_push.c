/*
 * Sensor push (see sensor_push.h). The pattern of a firmware that produces data in its
 * own tasks:
 *
 *   tcpip thread    lwIP, the listener's request callback (serves the page, upgrades
 *                   "/ws" into a free slot and turns its receive queue on), closeFp;
 *   sensor task     every 10 ms: one reading {"seq":N,"ms":T,"value":V} to every open
 *                   slot with WSS_writeBlocking (copies, takes the core lock itself).
 *                   It never waits (timeout 0): each connection's send queue holds about
 *                   a second of readings; a browser that falls further behind loses
 *                   readings (it sees a gap in "seq", the firmware counts them) instead
 *                   of holding up the readings of the others;
 *   command task    WSS_read on each open slot; answers {"ack":"TEXT","seq":N}, or the
 *                   figures for "stats", with WSS_writeBlocking (waits up to 1 s).
 *
 * Slots are static WSS storage, constructed again in the request callback for each new
 * connection (under the core lock: a task call on the old connection either finished
 * before or sees the new one). `slotOpen` is only a hint for the tasks: a call on a slot
 * that just closed returns LWIP_WS_ERR_CLOSED, never touches freed memory.
 */
#include <stdio.h>
#include <string.h>

#include "FreeRTOS.h"
#include "task.h"

#include "lwip/tcpip.h"
#include "lwip_ws.h"
#include "sensor_page.h" /* index_html[], index_html_len: xxd -i index.html, made const */
#include "sensor_push.h"

#define SLOTS          4
#define PERIOD_MS      10
#define CMD_MAX        128   /* largest command (WSS_setMaxMessage) */
#define READ_DEPTH     4     /* commands queued per connection before reading pauses */
#define SEND_QUEUE     4096  /* per connection: about 80 readings (0.8 s) */
#define SENSOR_STACK   384   /* words */
#define COMMAND_STACK  512   /* words */
#define SENSOR_PRIO    (tskIDLE_PRIORITY + 3)
#define COMMAND_PRIO   (tskIDLE_PRIORITY + 2)

static WSSCB callbacks;
static WSS slots[SLOTS];
static volatile unsigned char slotOpen[SLOTS];
static WSListener listener;
static volatile uint32_t sequence;
static volatile uint32_t sent, dropped, commands;

static int slotOf(const WSS *wss)
{
    return (int)(wss - slots);
}

/* ---- tcpip thread ------------------------------------------------------------------ */
static void onFrame(WSSCB *o, WSS *wss, void *data, int len, int isTxt)
{
    /* Only reached when the receive queue could not be turned on: ignore. */
    (void)o;
    (void)wss;
    (void)data;
    (void)len;
    (void)isTxt;
}

static void onClose(WSSCB *o, WSS *wss, int status)
{
    (void)o;
    (void)status;
    slotOpen[slotOf(wss)] = 0;
}

/* Every call's result is checked; one that failed where nothing else can be done is
 * reported on the console. */
static void report(const char *what, int rc)
{
    if (rc < 0) {
        printf("sensor-push: %s: %s\n", what, WSS_errorText(rc));
    }
}

static void upgrade(HttpRequest *req)
{
    int i, rc;
    for (i = 0; i < SLOTS && slotOpen[i]; i++) {
    }
    if (i == SLOTS) {
        report("answer 503", HttpRequest_reject(req, 503));
        return;
    }
    WSS_destructor(&slots[i]); /* the previous connection's state: blocked tasks return */
    rc = WSS_constructor(&slots[i], &callbacks, CMD_MAX, CMD_MAX);
    if (rc == LWIP_WS_OK) {
        rc = WSS_setMaxMessage(&slots[i], CMD_MAX);
    }
    if (rc == LWIP_WS_OK) {
        rc = WSS_setSendQueue(&slots[i], SEND_QUEUE);
    }
    if (rc != LWIP_WS_OK) {
        report("answer 500", HttpRequest_reject(req, 500));
        return;
    }
    if (WSS_upgrade(&slots[i], req) != LWIP_WS_OK) {
        return; /* the library answered with the HTTP error */
    }
    if (WSS_setReadQueue(&slots[i], READ_DEPTH) != LWIP_WS_OK) {
        report("close", WSS_close(&slots[i], 1011));
        return;
    }
    slotOpen[i] = 1;
}

static void onRequest(WSListener *l, HttpRequest *req)
{
    const char *path = HttpRequest_getPath(req);
    (void)l;
    if (strcmp(path, "/ws") == 0) {
        if (HttpRequest_isWebSocket(req)) {
            upgrade(req);
        } else {
            report("answer 400", HttpRequest_reject(req, 400));
        }
    } else if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0) {
        report("send the page",
               HttpRequest_respondStatic(req, 200, "text/html; charset=utf-8", index_html,
                                         (int)index_html_len));
    } else {
        report("answer 404", HttpRequest_reject(req, 404));
    }
}

/* ---- tasks -------------------------------------------------------------------------- */
/* A made-up sensor: a triangle wave between 20.00 and 24.00 (hundredths). */
static int readSensor(uint32_t n)
{
    uint32_t phase = n % 800u;
    return 2000 + (int)(phase < 400u ? phase : 800u - phase);
}

static void sensorTask(void *arg)
{
    char msg[80];
    TickType_t wake = xTaskGetTickCount();
    (void)arg;
    for (;;) {
        uint32_t n;
        int i, len;
        vTaskDelayUntil(&wake, pdMS_TO_TICKS(PERIOD_MS));
        n = sequence++;
        len = snprintf(msg, sizeof msg, "{\"seq\":%lu,\"ms\":%lu,\"value\":%d}",
                       (unsigned long)n, (unsigned long)(wake * portTICK_PERIOD_MS),
                       readSensor(n));
        for (i = 0; i < SLOTS; i++) {
            int rc;
            if (!slotOpen[i]) {
                continue;
            }
            rc = WSS_writeBlocking(&slots[i], msg, len, 1, 0);
            if (rc == LWIP_WS_OK) {
                sent++;
            } else if (rc != LWIP_WS_ERR_CLOSED && rc != LWIP_WS_ERR_NOT_CONSTRUCTED) {
                dropped++; /* WOULD_BLOCK: this browser is 0.8 s behind; it sees a gap */
            }
        }
    }
}

/* `text` as a JSON string body: printable ASCII, quotes and backslashes replaced. */
static void jsonSafe(char *text)
{
    for (; *text != '\0'; text++) {
        if (*text < 0x20 || *text > 0x7e || *text == '"' || *text == '\\') {
            *text = '?';
        }
    }
}

static void answer(WSS *wss, char *cmd)
{
    char reply[CMD_MAX + 256];
    int len;
    if (strcmp(cmd, "stats") == 0) {
        int n = snprintf(reply, sizeof reply, "{\"stats\":\"");
        n += sensorPush_figures(reply + n, (int)sizeof reply - n - 3);
        len = n + snprintf(reply + n, sizeof reply - (size_t)n, "\"}");
    } else {
        jsonSafe(cmd);
        len = snprintf(reply, sizeof reply, "{\"ack\":\"%s\",\"seq\":%lu}", cmd,
                       (unsigned long)sequence);
    }
    report("reply", WSS_writeBlocking(wss, reply, len, 1, 1000));
}

static void commandTask(void *arg)
{
    char cmd[CMD_MAX + 1];
    (void)arg;
    for (;;) {
        int i, got = 0;
        for (i = 0; i < SLOTS; i++) {
            int isTxt = 0, len;
            if (!slotOpen[i]) {
                continue;
            }
            len = WSS_read(&slots[i], cmd, CMD_MAX, &isTxt, 0);
            if (len >= 0) {
                cmd[len] = '\0';
                commands++;
                got = 1;
                if (isTxt) {
                    answer(&slots[i], cmd);
                }
            }
        }
        if (!got) {
            vTaskDelay(pdMS_TO_TICKS(5));
        }
    }
}

/* ---- set-up and figures ---------------------------------------------------------------- */
int sensorPush_start(uint16_t port)
{
    int i, rc;
    LOCK_TCPIP_CORE();
    rc = WSSCB_constructor(&callbacks, onFrame, onClose, NULL);
    for (i = 0; i < SLOTS && rc == LWIP_WS_OK; i++) {
        rc = WSS_constructor(&slots[i], &callbacks, CMD_MAX, CMD_MAX);
    }
    if (rc == LWIP_WS_OK) {
        rc = WSListener_constructor(&listener, onRequest);
    }
    if (rc == LWIP_WS_OK) {
        rc = WSListener_listen(&listener, NULL, port);
    }
    UNLOCK_TCPIP_CORE();
    if (rc != LWIP_WS_OK) {
        printf("sensor-push: listener: %s\n", WSS_errorText(rc));
        return -1;
    }
    if (xTaskCreate(sensorTask, "sensor", SENSOR_STACK, NULL, SENSOR_PRIO, NULL) != pdPASS ||
        xTaskCreate(commandTask, "command", COMMAND_STACK, NULL, COMMAND_PRIO, NULL) != pdPASS) {
        printf("sensor-push: cannot create the tasks\n");
        return -1;
    }
    return 0;
}

int sensorPush_figures(char *buf, int cap)
{
    TaskStatus_t tasks[8];
    UBaseType_t n = uxTaskGetSystemState(tasks, 8, NULL), i;
    int len = snprintf(buf, (size_t)cap, "sent=%lu dropped=%lu commands=%lu stack_free_min",
                       (unsigned long)sent, (unsigned long)dropped, (unsigned long)commands);
    for (i = 0; i < n && len < cap; i++) {
        len += snprintf(buf + len, (size_t)(cap - len), " %s=%luB", tasks[i].pcTaskName,
                        (unsigned long)tasks[i].usStackHighWaterMark * sizeof(StackType_t));
    }
    if (len < cap) {
        len += snprintf(buf + len, (size_t)(cap - len),
                        " freertos_heap=%lu used=%lu peak=%lu lwipws_heap=%lu",
                        (unsigned long)configTOTAL_HEAP_SIZE,
                        (unsigned long)(configTOTAL_HEAP_SIZE - xPortGetFreeHeapSize()),
                        (unsigned long)(configTOTAL_HEAP_SIZE - xPortGetMinimumEverFreeHeapSize()),
                        (unsigned long)lwipws_heapBytes());
    }
    return len < cap ? len : cap - 1;
}
