/*
 * The scenarios of tests/freertos/app.c where connections end under blocked tasks, and the
 * reads: /block, /echo, /destroy, /big (see app.c).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "app.h"

/* ---- the peer drops a connection while tasks wait on it ---------------------------------------- */
static int reader_rc;
static double reader_end;
static SemaphoreHandle_t reader_done;
static int block_slot;

static void reader_task(void *arg)
{
    (void)arg;
    char buf[64];
    reader_rc = WSS_read(&pool[block_slot], buf, sizeof buf, NULL, 20000);
    reader_end = wall_ms();
    xSemaphoreGive(reader_done);
    vTaskDelete(NULL);
}

void scenario_block(int i)
{
    char buf[64];
    if (read_go(i, buf, sizeof buf) != 0) {
        return;
    }
    block_slot = i;
    reader_done = xSemaphoreCreateBinary();
    xTaskCreate(reader_task, "reader", TASK_STACK, NULL, tskIDLE_PRIORITY + 3, NULL);
    /* Two writers, 1000-byte messages, until the connection ends (at most 100000 each). */
    int targets[1] = { i };
    TickType_t t0 = xTaskGetTickCount();
    int ok = run_writers(2, targets, 1, 100000, 1000, 20000, 30000);
    int rok = xSemaphoreTake(reader_done, pdMS_TO_TICKS(30000)) == pdTRUE;
    TickType_t t1 = xTaskGetTickCount();
    vSemaphoreDelete(reader_done);
    int status = status_of[i];
    for (int t = 0; t < 2; t++) {
        if (ok == 0 && writers[t].rc == LWIP_WS_ERR_CLOSED) {
            PASS("block: writer %d returned LWIP_WS_ERR_CLOSED after %d messages (closeFp %d)",
                 t, writers[t].sent, status);
        } else {
            FAIL("block: writer %d: %s after %d messages", t, WSS_errorText(writers[t].rc),
                 writers[t].sent);
        }
    }
    if (rok && reader_rc == LWIP_WS_ERR_CLOSED) {
        PASS("block: reader returned LWIP_WS_ERR_CLOSED");
    } else {
        FAIL("block: reader: %d %s", reader_rc, WSS_errorText(reader_rc));
    }
    unsigned ms = (unsigned)((t1 - t0) * portTICK_PERIOD_MS);
    double late = reader_end - closed_at[i];
    for (int t = 0; t < 2; t++) {
        if (writers[t].ended_at - closed_at[i] > late) {
            late = writers[t].ended_at - closed_at[i];
        }
    }
    if (ms < 15000 && late < 1000) {
        PASS("block: every blocked task returned within %.1f ms (wall clock) of closeFp, "
             "%u ticks after go, long before its 20 s timeout", late, ms);
    } else {
        FAIL("block: tasks returned %.1f ms after closeFp, %u ticks after go", late, ms);
    }
    /* After the end, every call refuses with CLOSED until WSS_destructor. */
    int rc = WSS_writeBlocking(&pool[i], "late", 4, 1, 1000);
    if (rc == LWIP_WS_ERR_CLOSED) {
        PASS("block: a write after closeFp returns LWIP_WS_ERR_CLOSED");
    } else {
        FAIL("block: a write after closeFp returned %s", WSS_errorText(rc));
    }
    in_core(destroy_slot, &i);
    rc = WSS_writeBlocking(&pool[i], "late", 4, 1, 1000);
    if (rc == LWIP_WS_ERR_NOT_CONSTRUCTED) {
        PASS("block: a write after WSS_destructor returns LWIP_WS_ERR_NOT_CONSTRUCTED");
    } else {
        FAIL("block: a write after WSS_destructor returned %s", WSS_errorText(rc));
    }
}

/* ---- WSS_read: a task echoes what it reads ------------------------------------------------------ */
void scenario_echo(int i)
{
    static char buf[70000];
    int n = 0, rc = 0, isTxt = 0;
    for (int k = 0; k < 100000; k++) {
        rc = WSS_read(&pool[i], buf, sizeof buf, &isTxt, 10000);
        if (rc < 0) {
            break;
        }
        int wrc = WSS_writeBlocking(&pool[i], buf, rc, isTxt, 10000);
        if (wrc != LWIP_WS_OK) {
            rc = wrc;
            break;
        }
        n++;
    }
    if (rc == LWIP_WS_ERR_CLOSED && n > 0) {
        PASS("echo: a task read %d messages with WSS_read and wrote them back; then "
             "LWIP_WS_ERR_CLOSED (closeFp %d)", n, status_of[i]);
    } else {
        FAIL("echo: after %d messages: %s", n, WSS_errorText(rc));
    }
    in_core(destroy_slot, &i);
}

/* ---- the owner releases a WSS while a task waits on it ------------------------------------------ */
void scenario_destroy(int i)
{
    char buf[64];
    if (read_go(i, buf, sizeof buf) != 0) {
        return;
    }
    block_slot = i;
    reader_done = xSemaphoreCreateBinary();
    reader_rc = 0;
    xTaskCreate(reader_task, "reader", TASK_STACK, NULL, tskIDLE_PRIORITY + 3, NULL);
    vTaskDelay(pdMS_TO_TICKS(200)); /* the reader is blocked by now */
    in_core(destroy_slot, &i);
    int rok = xSemaphoreTake(reader_done, pdMS_TO_TICKS(30000)) == pdTRUE;
    vSemaphoreDelete(reader_done);
    if (rok && reader_rc == LWIP_WS_ERR_CLOSED && reader_end - destroyed_at < 1000) {
        PASS("destroy: a reader blocked in WSS_read returned LWIP_WS_ERR_CLOSED %.1f ms after "
             "WSS_destructor", reader_end - destroyed_at);
    } else {
        FAIL("destroy: reader %s after %.1f ms", WSS_errorText(reader_rc),
             reader_end - destroyed_at);
    }
    int rc = WSS_read(&pool[i], buf, sizeof buf, NULL, 100);
    int wrc = WSS_writeBlocking(&pool[i], "late", 4, 1, 100);
    if (rc == LWIP_WS_ERR_NOT_CONSTRUCTED && wrc == LWIP_WS_ERR_NOT_CONSTRUCTED) {
        PASS("destroy: WSS_read and WSS_writeBlocking afterwards return LWIP_WS_ERR_NOT_CONSTRUCTED");
    } else {
        FAIL("destroy: afterwards read %s, write %s", WSS_errorText(rc), WSS_errorText(wrc));
    }
}

/* ---- a 1 MiB message read in pieces through a 4 KiB buffer ----------------------------------- */
void scenario_big(int i)
{
    static unsigned char buf[4096];
    uint64_t expect = 0, offset = 0;
    int pieces = 0, last = 0, isTxt = -1, bad = 0, rc = 0, most = 0;
    /* Streaming mode queues pieces: WSS_read (whole messages only) refuses, keeping them. */
    rc = WSS_read(&pool[i], buf, sizeof buf, &isTxt, 10000);
    if (rc == LWIP_WS_ERR_STATE) {
        PASS("big: WSS_read on a queued piece returns LWIP_WS_ERR_STATE (use WSS_readPiece)");
    } else {
        FAIL("big: WSS_read on a queued piece returned %d", rc);
    }
    for (int k = 0; k < 100000 && !last; k++) {
        rc = WSS_readPiece(&pool[i], buf, sizeof buf, &isTxt, &offset, &last, 10000);
        if (rc < 0) {
            break;
        }
        if (offset != expect || isTxt != 0) {
            bad++;
        }
        for (int j = 0; j < rc; j++) {
            if (buf[j] != (unsigned char)((offset + (uint64_t)j) % 251)) {
                bad++;
                break;
            }
        }
        expect = offset + (uint64_t)rc;
        most = rc > most ? rc : most;
        pieces++;
    }
    if (rc >= 0 && last && expect == BIG_BYTES && bad == 0) {
        PASS("big: a %d-byte binary message read with WSS_readPiece in %d pieces of at most %d "
             "bytes (queue of 8 pieces), offsets contiguous, content intact", BIG_BYTES, pieces,
             most);
    } else {
        FAIL("big: rc %s, %llu of %d bytes in %d pieces, last %d, %d bad",
             rc < 0 ? WSS_errorText(rc) : "ok", (unsigned long long)expect, BIG_BYTES, pieces,
             last, bad);
    }
    char reply[64];
    int n = snprintf(reply, sizeof reply, "big %llu %d", (unsigned long long)expect, bad);
    rc = WSS_writeBlocking(&pool[i], reply, n, 1, 10000);
    if (rc != LWIP_WS_OK) {
        FAIL("big: reply: %s", WSS_errorText(rc));
    }
    finish(i, "big");
}
