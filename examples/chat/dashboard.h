/*
 * The device dashboard of examples/chat (dashboard.c): a simulated sensor on lwIP's
 * timers pushes every reading to each open /sensor WebSocket; the page at / (from
 * dashboard.html) plots them live and sends commands back, which the device
 * acknowledges. Every function runs in lwIP's core context (the example's main loop).
 */
#ifndef LWIP_WS_EXAMPLE_DASHBOARD_H
#define LWIP_WS_EXAMPLE_DASHBOARD_H

#include "lwip_ws.h"

/* Starts the sensor (DASHBOARD_RATE readings per second). Call once, after lwIP is up. */
void dashboard_start(void);

/* Answers the request when `path` is the dashboard's: "/" or "/index.html" (the page,
 * sent from constant data) or "/sensor" (the WebSocket). Returns 1 when it answered,
 * 0 when the request is not the dashboard's (answer it yourself). */
int dashboard_request(HttpRequest *req, const char *path);

/* Stops the sensor and starts closing every dashboard connection (1001). */
void dashboard_close(void);

/* Open (or closing) dashboard connections. */
int dashboard_openCount(void);

/* After dashboard_close and once the connections are gone (or given up on): releases
 * their storage and prints one summary line ("dashboard: ..."). */
void dashboard_release(void);

#endif /* LWIP_WS_EXAMPLE_DASHBOARD_H */
