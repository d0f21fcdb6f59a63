/* Shared by tests/freertos/app.c and app_ends.c (see app.c). */
#ifndef LWIP_WS_TEST_FREERTOS_APP_H
#define LWIP_WS_TEST_FREERTOS_APP_H

#include <stdint.h>
#include <stdio.h>

#include "FreeRTOS.h"
#include "queue.h"
#include "semphr.h"
#include "task.h"

#include "lwip_ws.h"
#include "port_posix.h"

#define MAXC 64
#define WRITERS 4
#define TASK_STACK (configMINIMAL_STACK_SIZE * 4)
#define BIG_BYTES (1024 * 1024)

/* lwIP's core context from a task: the core lock, or the tcpip thread (no core locking). */
#define in_core posix_in_core

#define PASS(...) do { printf("PASS "); printf(__VA_ARGS__); printf("\n"); fflush(stdout); } while (0)
#define FAIL(...) do { failures++; printf("FAIL "); printf(__VA_ARGS__); printf("\n"); fflush(stdout); } while (0)

typedef struct {
    int id, n, count, targets[MAXC];
    int rc, sent;
    double ended_at;
    uint32_t timeout;
    int msglen;            /* 0: the checked pattern; else fixed-size filler */
    SemaphoreHandle_t done;
} Writer;

extern WSS pool[MAXC];
extern int used[MAXC];
extern int status_of[MAXC];
extern double closed_at[MAXC];
extern volatile int failures;
extern Writer writers[WRITERS + 2];
extern double destroyed_at;

double wall_ms(void);
/* Starts `nw` writers at priorities 1..nw on `targets`, waits for all (bounded). */
int run_writers(int nw, const int *targets, int count, int n, int msglen, uint32_t timeout,
                uint32_t wait_ms);
void destroy_slot(void *arg); /* core: WSS_destructor(&pool[*(int *)arg]) */
void finish(int i, const char *what);
int read_go(int i, char *buf, int cap);

/* app_ends.c */
void scenario_block(int i);
void scenario_echo(int i);
void scenario_destroy(int i);
void scenario_big(int i);

#endif
