/*
 * Server-only firmware (lwip-ws without the client and listener features): a WebSocket
 * echo server on port 80 built on websocket_accept() from lwIP's own tcp_accept
 * callback. Any path is accepted. The text "close:CODE" makes it close with CODE.
 * A 'q' on the console stops it (exit 0).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "echo_frames.h"
#include "hostnet.h"
#include "lwip/tcp.h"
#include "lwip_ws.h"
#include "mps2.h"

#define SLOTS 8

static WSSCB cb;
static WSS slots[SLOTS];
static unsigned char busy[SLOTS];

static void onClose(WSSCB *o, WSS *wss, int status)
{
    (void)o;
    (void)status;
    busy[wss - slots] = 0; /* the last callback: the slot is free again */
}

static err_t onAccept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    int i;
    (void)arg;
    if (err != ERR_OK || pcb == NULL) {
        return ERR_VAL;
    }
    for (i = 0; i < SLOTS && busy[i]; i++) {
    }
    if (i == SLOTS || websocket_accept(pcb, &slots[i]) != LWIP_WS_OK) {
        tcp_abort(pcb);
        return ERR_ABRT;
    }
    busy[i] = 1;
    return ERR_OK;
}

int mps2_main(void)
{
    struct tcp_pcb *pcb;
    int i;
    printf("mps2-an386: server-only echo on lwIP + lwip-ws\n");
    signal(SIGTERM, onSignal);
    WSSCB_constructor(&cb, onFrame, onClose, NULL);
    /* Origin policy of websocket_accept: NULL keeps the safe default (no Origin, or the
     * device's own); a product that serves its page elsewhere lists that origin here. */
    if (lwipws_setAllowedOrigins(NULL) != LWIP_WS_OK) {
        printf("error origin policy\n");
    }
    /* One heap budget for every connection: the ones that would pass it end with 1013. */
    lwipws_setHeapBudget(256 * 1024);
    for (i = 0; i < SLOTS; i++) {
        if (WSS_constructor(&slots[i], &cb, 1024, 4096) != LWIP_WS_OK) {
            return 1;
        }
    }
    if (hostnet_start("lan9118") < 0) {
        return 1;
    }
    pcb = tcp_new();
    if (pcb == NULL || tcp_bind(pcb, IP_ADDR_ANY, 80) != ERR_OK ||
        (pcb = tcp_listen(pcb)) == NULL) {
        printf("echo: cannot listen on port 80\n");
        return 1;
    }
    tcp_accept(pcb, onAccept);
    printf("ready ws://10.0.3.15:80/\n");
    while (!stop) {
        if (hostnet_poll(10) < 0) {
            return 1;
        }
    }
    tcp_close(pcb);
    for (i = 0; i < SLOTS; i++) {
        WSS_destructor(&slots[i]);
    }
    printf("echo: stopped\n");
    return 0;
}
