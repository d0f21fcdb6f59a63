/*
 * Sensor push on FreeRTOS + lwIP's tcpip thread (NO_SYS 0, LWIP_TCPIP_CORE_LOCKING 1):
 * a sensor task pushes a reading every 10 ms to every connected browser with
 * WSS_writeBlocking, a command task reads commands with WSS_read and acknowledges them.
 * One lwIP port serves the page ("/") and the WebSocket ("/ws").
 */
#ifndef LWIP_WS_SENSOR_PUSH_H
#define LWIP_WS_SENSOR_PUSH_H

#include <stdint.h>

/* Starts the listener on `port` and the two tasks. Call it from a task once lwIP's
 * tcpip thread runs and the netif is up (it takes the core lock itself). Returns 0, or
 * -1 (printed) when something could not be created. */
int sensorPush_start(uint16_t port);

/* Writes the figures (readings sent, readings not delivered, each task's stack
 * high-water mark, the FreeRTOS heap, lwip-ws's heap) as one line of text into `buf`.
 * Any task. Returns the length (truncated to cap - 1). */
int sensorPush_figures(char *buf, int cap);

#endif /* LWIP_WS_SENSOR_PUSH_H */
